// Checklist rows of spec 15 that no other test proved end to end through a
// real gateway (see docs/compatibility.md for the full row → test map).
import assert from "node:assert/strict";
import { decodeJwt } from "jose";
import { basicAuth, startGateway, testConfig } from "../support/gateway.ts";

const TWO_REALMS = testConfig(`
providers:
  - { type: plain, name: first, realm: alpha, users: [{ username: ann, password: a-pw, roles: [user] }] }
  - { type: plain, name: second, realm: beta, users: [{ username: bob, password: b-pw, roles: [user] }] }
  - { type: plain, name: again, realm: alpha, users: [] }
augmenters:
  - type: plain
    name: legacy
    realm: alpha
    roles: { user: [ann], ops: [ann] }
  - type: plain_advanced
    name: after-legacy
    realm: alpha
    match: { role: [ops] }
    augment: { roles: [ops-reader, user] }
`);

function claimsOf(res: Response): Record<string, unknown> {
  return decodeJwt(res.headers.get("authorization")!.slice("Bearer ".length));
}

Deno.test("/authenticate: AOT_JWT__ISS overrides jwt.iss in the issued JWT (row 12)", async () => {
  await using gw = await startGateway(TWO_REALMS, { env: { AOT_JWT__ISS: "from-env" } });
  const { res } = await gw.request("/authenticate", {
    headers: { authorization: basicAuth("ann:a-pw") },
  });
  assert.equal(res.status, 200);
  assert.equal(claimsOf(res).iss, "from-env");
});

Deno.test("/authenticate without X-Auth-Realm tries every provider of the scheme (row 52)", async () => {
  await using gw = await startGateway(TWO_REALMS);
  const { res } = await gw.request("/authenticate", {
    headers: { authorization: basicAuth("bob:b-pw") },
  });
  assert.equal(res.status, 200, "bob exists only in the second provider");
  assert.equal(claimsOf(res).realm, "beta");
});

Deno.test("/authenticate: 401 challenge lists each scheme/realm pair once, in config order (row 29)", async () => {
  await using gw = await startGateway(TWO_REALMS);
  const { res } = await gw.request("/authenticate");
  assert.equal(res.status, 401);
  assert.equal(res.headers.get("www-authenticate"), 'Basic realm="alpha", Basic realm="beta"');
});

Deno.test("/authenticate: plain_advanced sees roles added by the plain augmenter; no duplicate roles (rows 100, 103)", async () => {
  await using gw = await startGateway(TWO_REALMS);
  const { res } = await gw.request("/authenticate", {
    headers: { authorization: basicAuth("ann:a-pw") },
  });
  assert.equal(res.status, 200);
  // The plain augmenter adds "user" (already held) and "ops"; plain_advanced
  // matches on "ops" and adds "ops-reader" and "user" again. The original
  // would issue ["user", "user", "ops", "ops-reader", "user"].
  assert.deepEqual(claimsOf(res).roles, ["user", "ops", "ops-reader"]);
});

Deno.test("/providers never lists the token store, even when it is enabled (row 123)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "aot-compat-" });
  try {
    await using gw = await startGateway(
      testConfig(
        "providers:\n  - { type: plain, name: local, realm: r, users: [] }\n",
        { store: `{ enabled: true, path: "${dir}/tokens.kv" }` },
      ),
    );
    assert.equal(
      (await gw.request("/providers")).body,
      '{"providers":[{"name":"local","type":"plain","realm":"r"}]}',
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
