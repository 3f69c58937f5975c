// @authotron/client's npm build under Node's own test runner (`node --test`; not a Deno test file), against the
// gateways that tests/packages/client_node_test.ts starts: HS256 at HS256_URL, EdDSA at EDDSA_URL.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  AuthClient,
  AuthError,
  fromEmailKey,
  requestAuthenticator,
  verifyToken,
} from "@authotron/client";

const { HS256_URL, EDDSA_URL, SECRET, ISSUER, CREDENTIAL } = process.env;

async function tokenFrom(url) {
  const res = await fetch(`${url}/authenticate`, { headers: { authorization: CREDENTIAL } });
  assert.equal(res.status, 200);
  return res.headers.get("authorization").slice("Bearer ".length);
}

test("verifyToken checks an HS256 token with the secret and adds the default role", async () => {
  const user = await verifyToken(await tokenFrom(HS256_URL), { secret: SECRET }, {
    issuer: ISSUER,
  });
  assert.equal(user.username, "adam");
  assert.deepEqual(user.roles, ["user", "default"]);
  await assert.rejects(
    verifyToken(await tokenFrom(HS256_URL), { secret: "wrong" }, { issuer: ISSUER }),
    (e) => e instanceof AuthError && e.code === "invalid_jwt",
  );
});

test("verifyToken checks an EdDSA token through the JWKS", async () => {
  const jwksUrl = `${EDDSA_URL}/.well-known/jwks.json`;
  const user = await verifyToken(await tokenFrom(EDDSA_URL), { jwksUrl }, { issuer: ISSUER });
  assert.equal(user.realm, "ecmwf");
});

test("AuthClient shares one lookup between concurrent calls and caches it", async () => {
  const client = new AuthClient({ url: EDDSA_URL, issuer: ISSUER });
  const users = await Promise.all(
    Array.from({ length: 20 }, () => client.authenticate(CREDENTIAL)),
  );
  assert.ok(users.every((user) => user === users[0]));
  assert.equal(client.size, 1);
  await assert.rejects(
    client.authenticate("Basic YWRhbTp3cm9uZw=="),
    (e) => e instanceof AuthError && e.status === 401 && e.wwwAuthenticate.startsWith("Basic "),
  );
});

test("requestAuthenticator works with Node's Request and fromEmailKey converts", async () => {
  const authenticate = requestAuthenticator({ key: { secret: SECRET }, issuer: ISSUER });
  const token = await tokenFrom(HS256_URL);
  const user = await authenticate(
    new Request("http://backend/", { headers: { authorization: `Bearer ${token}` } }),
  );
  assert.equal(user.username, "adam");
  assert.equal(fromEmailKey("EmailKey a@b.c:tok"), "Bearer tok");
});
