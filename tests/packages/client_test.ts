/**
 * `@authotron/client` against a real gateway (HS256 with the secret, EdDSA
 * through `/.well-known/jwks.json`), a counting proxy in front of it for the
 * cache and single-flight, and real servers for the failure answers.
 */

import assert from "node:assert/strict";
import { SignJWT } from "jose";
import {
  AuthClient,
  AuthError,
  fromEmailKey,
  requestAuthenticator,
  verifyToken,
} from "@authotron/client";
import { basicAuth, startGateway, type TestGateway } from "../support/gateway.ts";
import { generateKey, jwtConfig, PLAIN_PROVIDER, SECRET } from "../jwt/keys.ts";

const ISSUER = "authotron-test";
const ADAM = basicAuth("adam:admin");

function hs256Gateway(): Promise<TestGateway> {
  return startGateway(jwtConfig(`  exp: 300\n  secret: ${SECRET}\n`, PLAIN_PROVIDER));
}

function eddsaGateway(): Promise<TestGateway> {
  return startGateway(
    jwtConfig(
      `  exp: 300\n  algorithm: EdDSA\n  keys:\n    - private_key_file: k.pem\n`,
      PLAIN_PROVIDER,
    ),
    { files: { "k.pem": generateKey("EdDSA").privatePem } },
  );
}

async function tokenFrom(gw: TestGateway): Promise<string> {
  const { res } = await gw.request("/authenticate", { headers: { authorization: ADAM } });
  assert.equal(res.status, 200);
  return res.headers.get("authorization")!.slice("Bearer ".length);
}

function isAuthError(code: string, status: number) {
  return (e: unknown) => e instanceof AuthError && e.code === code && e.status === status;
}

/** A real HTTP server in front of `target` that counts the requests it forwards. */
function countingProxy(target: string) {
  let count = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    count++;
    const url = new URL(req.url);
    const res = await fetch(target + url.pathname + url.search, { headers: req.headers });
    return new Response(await res.arrayBuffer(), { status: res.status, headers: res.headers });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    get count() {
      return count;
    },
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

Deno.test("verifyToken: an HS256 gateway token with the secret; default role added; wrong secret or issuer refused", async () => {
  await using gw = await hs256Gateway();
  const token = await tokenFrom(gw);
  const user = await verifyToken(token, { secret: SECRET }, { issuer: ISSUER });
  assert.deepEqual(user, {
    version: 1,
    username: "adam",
    realm: "ecmwf",
    roles: ["user", "default"],
    attributes: {},
    scopes: {},
  });
  await assert.rejects(
    verifyToken(token, { secret: SECRET + "x" }, { issuer: ISSUER }),
    isAuthError("invalid_jwt", 401),
  );
  await assert.rejects(
    verifyToken(token, { secret: SECRET }, { issuer: "someone-else" }),
    isAuthError("invalid_jwt", 401),
  );
  await assert.rejects(
    verifyToken(token, { secret: SECRET }, { issuer: ISSUER, audience: "orders" }),
    isAuthError("invalid_jwt", 401),
    "an audience asked for but absent",
  );
});

Deno.test("verifyToken: an EdDSA gateway token through the JWKS; an HS256 token never passes the JWKS path", async () => {
  await using gw = await eddsaGateway();
  const token = await tokenFrom(gw);
  const jwksUrl = `${gw.url}/.well-known/jwks.json`;
  const user = await verifyToken(token, { jwksUrl }, { issuer: ISSUER });
  assert.equal(user.username, "adam");
  assert.deepEqual(user.roles, ["user", "default"]);
  const forged = await new SignJWT({ username: "mallory", realm: "ecmwf" })
    .setProtectedHeader({ alg: "HS256" }).setIssuer(ISSUER).setIssuedAt()
    .setExpirationTime("1m").sign(new TextEncoder().encode(SECRET));
  await assert.rejects(verifyToken(forged, { jwksUrl }, { issuer: ISSUER }), AuthError);
});

Deno.test("verifyToken: the original client's rules: roles deduplicated with default, attributes as text", async () => {
  const secret = new TextEncoder().encode(SECRET);
  const token = await new SignJWT({
    username: "eve",
    realm: "r",
    roles: ["viewer", "default", "viewer"],
    attributes: { s: "text", n: 42, b: true, z: null, o: { nested: "value" } },
  }).setProtectedHeader({ alg: "HS256" }).setIssuer(ISSUER).setExpirationTime("1m").sign(secret);
  const user = await verifyToken(token, { secret }, { issuer: ISSUER });
  assert.deepEqual(user.roles, ["viewer", "default"]);
  assert.deepEqual(user.attributes, {
    s: "text",
    n: "42",
    b: "true",
    z: "null",
    o: '{"nested":"value"}',
  });
  assert.deepEqual(user.scopes, {});
  const noRealm = await new SignJWT({ username: "eve" }).setProtectedHeader({ alg: "HS256" })
    .setIssuer(ISSUER).setExpirationTime("1m").sign(secret);
  await assert.rejects(
    verifyToken(noRealm, { secret }, { issuer: ISSUER }),
    (e) => e instanceof AuthError && /realm/.test(e.message),
  );
  const noExp = await new SignJWT({ username: "eve", realm: "r" }).setProtectedHeader({
    alg: "HS256",
  }).setIssuer(ISSUER).sign(secret);
  await assert.rejects(verifyToken(noExp, { secret }, { issuer: ISSUER }), AuthError);
});

Deno.test("fromEmailKey: EmailKey user:token becomes Bearer token; anything else unchanged", () => {
  assert.equal(fromEmailKey("EmailKey user@x.com:abc"), "Bearer abc");
  assert.equal(fromEmailKey("EmailKey user@x.com:a:b"), "Bearer a:b");
  assert.equal(fromEmailKey("EmailKey user@x.com"), "EmailKey user@x.com");
  assert.equal(fromEmailKey("emailkey user@x.com:abc"), "emailkey user@x.com:abc");
  assert.equal(fromEmailKey("Basic YTpi"), "Basic YTpi");
});

Deno.test("AuthClient: 100 concurrent cold calls for one credential make exactly one HTTP call, then the cache answers", async () => {
  await using gw = await eddsaGateway();
  await using proxy = countingProxy(gw.url);
  const client = new AuthClient({ url: proxy.url, issuer: ISSUER, ttlMs: 60_000 });
  const users = await Promise.all(Array.from({ length: 100 }, () => client.authenticate(ADAM)));
  const authenticateCalls = proxy.count - 1; // the JWKS fetch went through the proxy too
  assert.equal(authenticateCalls, 1);
  assert.ok(users.every((u) => u === users[0] && u.username === "adam"));
  await client.authenticate(ADAM);
  assert.equal(proxy.count - 1, 1, "cached");
  assert.equal(client.size, 1);
});

Deno.test("AuthClient: entries expire after ttlMs, failures are not cached, the cache is bounded", async () => {
  await using gw = await hs256Gateway();
  await using proxy = countingProxy(gw.url);
  const client = new AuthClient({
    url: proxy.url + "/",
    issuer: ISSUER,
    key: { secret: SECRET },
    ttlMs: 100,
    maxEntries: 2,
  });
  await client.authenticate(ADAM);
  await client.authenticate(ADAM);
  assert.equal(proxy.count, 1);
  await new Promise((resolve) => setTimeout(resolve, 150));
  await client.authenticate(ADAM);
  assert.equal(proxy.count, 2, "expired after ttlMs");

  const wrong = basicAuth("adam:wrong");
  for (let i = 0; i < 2; i++) {
    await assert.rejects(
      client.authenticate(wrong),
      (e) =>
        e instanceof AuthError && e.code === "unauthorized" && e.status === 401 &&
        /^Basic /.test(e.wwwAuthenticate ?? ""),
    );
  }
  assert.equal(proxy.count, 4, "a failure is asked again");

  for (const other of ["EmailKey a@b:t1", "Bearer t2", "Bearer t3"]) {
    await client.authenticate(other).catch(() => {});
  }
  await client.authenticate(basicAuth("adam:admin"));
  assert.ok(client.size <= 2);
});

Deno.test("AuthClient: unreachable or 5xx gateway is service_unavailable (503), a 2xx without a Bearer JWT is invalid_jwt", async () => {
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const deadUrl = `http://127.0.0.1:${closed.addr.port}`;
  closed.close();
  await assert.rejects(
    new AuthClient({ url: deadUrl, issuer: ISSUER }).authenticate(ADAM),
    isAuthError("service_unavailable", 503),
  );
  const answers = [
    new Response(null, { status: 503, headers: { "retry-after": "5" } }),
    new Response(null, { status: 200 }),
    new Response(null, { status: 200, headers: { authorization: "Basic abc" } }),
  ];
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => answers.shift()!,
  );
  const client = new AuthClient({
    url: `http://127.0.0.1:${server.addr.port}`,
    issuer: ISSUER,
    key: { secret: SECRET },
  });
  await assert.rejects(client.authenticate(ADAM), isAuthError("service_unavailable", 503));
  await assert.rejects(
    client.authenticate(ADAM),
    (e) => e instanceof AuthError && e.code === "invalid_jwt" && /missing/.test(e.message),
  );
  await assert.rejects(
    client.authenticate(ADAM),
    (e) => e instanceof AuthError && e.code === "invalid_jwt" && /not Bearer/.test(e.message),
  );
});

Deno.test("requestAuthenticator: verifies a forwarded JWT or asks the gateway through an AuthClient", async () => {
  await using gw = await eddsaGateway();
  const token = await tokenFrom(gw);
  const local = requestAuthenticator({
    key: { jwksUrl: `${gw.url}/.well-known/jwks.json` },
    issuer: ISSUER,
  });
  const viaJwt = await local(
    new Request("http://backend/", { headers: { authorization: `Bearer ${token}` } }),
  );
  assert.equal(viaJwt.username, "adam");
  await assert.rejects(local(new Request("http://backend/")), isAuthError("unauthorized", 401));
  await assert.rejects(
    local(new Request("http://backend/", { headers: { authorization: ADAM } })),
    isAuthError("unauthorized", 401),
  );
  const remote = requestAuthenticator(new AuthClient({ url: gw.url, issuer: ISSUER }));
  const viaGateway = await remote(
    new Request("http://backend/", { headers: { authorization: ADAM } }),
  );
  assert.deepEqual(viaGateway, viaJwt);
});

Deno.test("examples/backends/hono_client.ts: the Hono example admits the gateway's token and answers 401 otherwise", async () => {
  const { createApp } = await import("../../examples/backends/hono_client.ts");
  await using gw = await eddsaGateway();
  const token = await tokenFrom(gw);
  const app = createApp(gw.url, ISSUER);
  const ok = await app.fetch(
    new Request("http://backend/api/whoami", { headers: { authorization: `Bearer ${token}` } }),
  );
  assert.equal(ok.status, 200);
  const user = await ok.json();
  assert.equal(user.username, "adam");
  assert.deepEqual(user.roles, ["user", "default"]);
  const anonymous = await app.fetch(new Request("http://backend/api/whoami"));
  assert.equal(anonymous.status, 401);
  assert.equal(anonymous.headers.get("www-authenticate"), "Bearer");
  assert.deepEqual(await anonymous.json(), { error: "unauthorized" });
  const otherIssuer = createApp(gw.url, "someone-else");
  const refused = await otherIssuer.fetch(
    new Request("http://backend/api/whoami", { headers: { authorization: `Bearer ${token}` } }),
  );
  assert.equal(refused.status, 401);
  await refused.body?.cancel();
});
