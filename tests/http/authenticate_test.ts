import assert from "node:assert/strict";
import { decodeJwt, jwtVerify } from "jose";
import { hs256Kid } from "../../lib/jwt/keys.ts";
import { basicAuth, startGateway, testConfig } from "../support/gateway.ts";

const SECRET_TEXT = "test-secret-that-is-long-enough-32b";
const SECRET = new TextEncoder().encode(SECRET_TEXT);

const PLAIN = testConfig(`
providers:
  - type: plain
    name: Plain provider
    realm: ecmwf
    users:
      - { username: adam, password: admin, roles: [user] }
      - { username: eve, password: admin, roles: [superuser] }
      - { username: pw, password: "p:w" }
      - { username: 用户, password: 密码 }
  - type: plain
    name: Other plain provider
    realm: other
    users:
      - { username: adam, password: other, roles: [user] }
      - { username: adam, password: admin, roles: [from-other] }
augmenters:
  - type: plain
    name: Polytope plain admin augmenter
    realm: ecmwf
    roles: { admin: [eve, adam] }
`);

Deno.test("/authenticate issues an HS256 JWT with the original's claims", async () => {
  await using gw = await startGateway(PLAIN);
  const before = Math.floor(Date.now() / 1000);
  const { res, body } = await gw.request("/authenticate", {
    headers: { authorization: basicAuth("adam:admin"), "x-auth-realm": "ecmwf" },
  });
  assert.equal(res.status, 200);
  assert.equal(body, "Authenticated successfully");
  assert.equal(res.headers.get("content-type"), null);
  assert.equal(res.headers.get("cache-control"), null);
  assert.equal(res.headers.get("x-auth-username"), null);
  const jwt = res.headers.get("authorization")!.replace(/^Bearer /, "");
  const { payload, protectedHeader } = await jwtVerify(jwt, SECRET, { algorithms: ["HS256"] });
  // Every token carries a kid now (issue 7); it is a hash of the secret, never the secret.
  assert.deepEqual(protectedHeader, { typ: "JWT", alg: "HS256", kid: await hs256Kid(SECRET_TEXT) });
  assert.deepEqual(Object.keys(payload), [
    "sub",
    "iss",
    "exp",
    "iat",
    "roles",
    "username",
    "scopes",
    "realm",
    "attributes",
  ]);
  assert.equal(payload.sub, "ecmwf-adam");
  assert.equal(payload.iss, "authotron-test");
  assert.ok(payload.iat! >= before && payload.iat! <= before + 5);
  assert.equal(payload.exp, payload.iat! + 3600);
  assert.deepEqual(payload.roles, ["user", "admin"]);
  assert.deepEqual(payload.scopes, {});
  assert.deepEqual(payload.attributes, {});
  assert.equal(payload.aud, undefined);
});

Deno.test("/authenticate: X-Auth-Realm selects the realm, case-insensitively", async () => {
  await using gw = await startGateway(PLAIN);
  const other = await gw.request("/authenticate", {
    headers: { authorization: basicAuth("adam:other"), "x-auth-realm": "OTHER" },
  });
  assert.equal(other.res.status, 200);
  const claims = decodeJwt(other.res.headers.get("authorization")!.slice(7));
  assert.equal(claims.realm, "other");
  assert.deepEqual(claims.roles, ["user"], "the ecmwf augmenter does not apply to realm other");
  const nowhere = await gw.request("/authenticate", {
    headers: { authorization: basicAuth("adam:admin"), "x-auth-realm": "nowhere" },
  });
  assert.equal(nowhere.res.status, 401);
  const picked = await gw.request("/authenticate", {
    headers: { authorization: basicAuth("adam:admin"), "x-auth-realm": "Other" },
  });
  assert.deepEqual(decodeJwt(picked.res.headers.get("authorization")!.slice(7)).roles, [
    "from-other",
  ]);
});

Deno.test("/authenticate: 401 with the exact body and challenge for every failure", async () => {
  await using gw = await startGateway(PLAIN);
  const bad: Record<string, string>[] = [
    {},
    { authorization: "   " },
    { authorization: basicAuth("adam:wrong") },
    { authorization: basicAuth("Adam:admin") },
    { authorization: basicAuth("nobody:admin") },
    { authorization: basicAuth(":admin") },
    { authorization: basicAuth(":") },
    { authorization: basicAuth("adam:admin").replace(/=+$/, "") },
    { authorization: "Basic" },
    { authorization: "Basic a b" },
    { authorization: `${basicAuth("adam:admin")},` },
    {
      authorization: `${basicAuth("x:1")}, ${basicAuth("x:2")}, ${basicAuth("x:3")}, ${
        basicAuth("adam:admin")
      }`,
    },
    { authorization: "Token abc" },
    { authorization: "Bearer a\tb" },
  ];
  for (const headers of bad) {
    const { res, body } = await gw.request("/authenticate", { headers });
    assert.equal(res.status, 401, JSON.stringify(headers));
    assert.equal(body, '{"error": "Unauthorized access"}');
    assert.equal(res.headers.get("content-type"), "application/json");
    assert.equal(
      res.headers.get("www-authenticate"),
      'Basic realm="ecmwf", Basic realm="other"',
    );
  }
});

Deno.test("/authenticate: header variants the original accepts", async () => {
  await using gw = await startGateway(PLAIN);
  const good = basicAuth("adam:admin").slice(6);
  const accepted = [
    `Plain ${good}`,
    `basic ${good}`,
    `Basic ${basicAuth("x:1").slice(6)}, Basic ${basicAuth("x:2").slice(6)}, Basic ${good}`,
    `Basic ${good}, Basic ${good}`,
    `Bearer nope, Basic ${good}`,
    basicAuth("pw:p:w"),
    basicAuth("用户:密码"),
  ];
  for (const authorization of accepted) {
    const { res } = await gw.request("/authenticate", { headers: { authorization } });
    assert.equal(res.status, 200, authorization);
  }
  const { body } = await gw.request("/whoami", {
    headers: { authorization: basicAuth("用户:密码") },
  });
  assert.equal(JSON.parse(body).username, "用户");
});

Deno.test("/whoami returns the augmented user with no-store", async () => {
  await using gw = await startGateway(PLAIN);
  const { res, body } = await gw.request("/whoami", {
    headers: { authorization: basicAuth("adam:admin"), "x-auth-realm": "ecmwf" },
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("cache-control"), "no-store");
  assert.equal(res.headers.get("content-type"), "application/json");
  assert.equal(res.headers.get("authorization"), null);
  assert.equal(
    body,
    '{"version":1,"username":"adam","realm":"ecmwf","roles":["user","admin"],"attributes":{},"scopes":{}}',
  );
  const denied = await gw.request("/whoami", { headers: { authorization: basicAuth("adam:x") } });
  assert.equal(denied.res.status, 401);
  assert.equal(denied.res.headers.get("cache-control"), null);
  assert.ok(denied.res.headers.get("www-authenticate"));
});

Deno.test("/authenticate: HEAD runs authentication and sends no body", async () => {
  await using gw = await startGateway(PLAIN);
  const { res, body } = await gw.request("/authenticate", {
    method: "HEAD",
    headers: { authorization: basicAuth("adam:admin") },
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get("authorization")!, /^Bearer /);
  assert.equal(body, "");
});

Deno.test("/authenticate: legacy headers, made header-safe", async () => {
  await using gw = await startGateway(PLAIN + "\ninclude_legacy_headers: true\n");
  const { res } = await gw.request("/authenticate", {
    headers: { authorization: basicAuth("adam:admin"), "x-auth-realm": "ecmwf" },
  });
  assert.equal(res.headers.get("x-auth-username"), "adam");
  assert.equal(res.headers.get("x-auth-realm"), "ecmwf");
  assert.equal(res.headers.get("x-auth-roles"), "user,admin");
  const unicode = await gw.request("/authenticate", {
    headers: { authorization: basicAuth("用户:密码") },
  });
  assert.equal(unicode.res.status, 200);
  assert.equal(unicode.res.headers.get("x-auth-username"), encodeURIComponent("用户"));
  assert.equal(unicode.res.headers.get("x-auth-roles"), "");
});

Deno.test("/authenticate: the issued JWT is not accepted back as a credential", async () => {
  await using gw = await startGateway(PLAIN);
  const { res } = await gw.request("/authenticate", {
    headers: { authorization: basicAuth("adam:admin") },
  });
  const again = await gw.request("/authenticate", {
    headers: { authorization: res.headers.get("authorization")! },
  });
  assert.equal(again.res.status, 401);
});
