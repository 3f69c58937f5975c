// Checklist rows of spec 15 that no other test proved end to end through a
// real gateway (see docs/compatibility.md for the full row → test map).
import assert from "node:assert/strict";
import { decodeJwt } from "jose";
import { basicAuth, startGateway, testConfig } from "../support/gateway.ts";
import { loadConfig } from "../../lib/config/load.ts";

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

Deno.test("the original's offline_integration config starts: one provider name in two realms (issue 17)", async () => {
  const yaml = await Deno.readTextFile(
    new URL("../fixtures/config/original_offline.yaml", import.meta.url),
  );
  await using gw = await startGateway(yaml, {
    env: { AOT_SERVER__PORT: "0", AOT_METRICS__ENABLED: "true", AOT_METRICS__PORT: "0" },
  });
  const login = (userPass: string, realm?: string) =>
    gw.request("/authenticate", {
      headers: {
        authorization: basicAuth(userPass),
        ...(realm === undefined ? {} : { "x-auth-realm": realm }),
      },
    });
  const ecmwf = await login("adam:admin");
  assert.equal(ecmwf.res.status, 200);
  assert.deepEqual(claimsOf(ecmwf.res).realm, "ecmwf");
  assert.deepEqual(claimsOf(ecmwf.res).roles, ["user", "admin"]);
  const other = await login("adam:other");
  assert.equal(other.res.status, 200);
  assert.deepEqual([claimsOf(other.res).realm, claimsOf(other.res).roles], ["other", ["user"]]);
  assert.equal((await login("adam:wrongpassword")).res.status, 401);
  assert.equal((await login("adam:admin", "other")).res.status, 401, "realms stay separate");

  const listed = JSON.parse((await gw.request("/providers")).body);
  assert.deepEqual(
    listed.providers.filter((p: { name: string }) => p.name === "Plain provider")
      .map((p: { realm: string }) => p.realm),
    ["ecmwf", "other"],
  );
  const metrics = await gw.request(`${gw.metricsUrl}/metrics`);
  for (const realm of ["ecmwf", "other"]) {
    const series =
      `auth_provider_attempts_total{provider_name="Plain provider",provider_type="Basic",realm="${realm}",result="success"} 1`;
    assert.ok(metrics.body.includes(series), series);
  }
  const status = JSON.parse((await gw.request(`${gw.metricsUrl}/status`)).body);
  assert.deepEqual(
    status.plugins.filter((p: { kind: string }) => p.kind === "provider")
      .map((p: { name: string }) => p.name),
    ["ECMWF API Provider", "Plain provider@ecmwf", "Plain provider@other"],
  );
  const warnings = gw.logs.filter((l) => l.includes("startup.providers.shared_name"));
  assert.equal(warnings.length, 2, gw.logs.join("\n"));
  assert.ok(warnings[1]!.includes("Plain provider@other"), warnings[1]);
});

Deno.test("auth-o-tron's examples/nginx-auth config starts unchanged; its jwt.aud adds no claim (issue 17)", async () => {
  const yaml = await Deno.readTextFile(
    new URL("../fixtures/config/original_nginx_auth.yaml", import.meta.url),
  );
  await using gw = await startGateway(yaml, {
    env: { AOT_SERVER__PORT: "0", AOT_SERVER__HOST: "127.0.0.1", AOT_METRICS__PORT: "0" },
  });
  const { res } = await gw.request("/authenticate", {
    headers: { authorization: basicAuth("test_user:secret123") },
  });
  assert.equal(res.status, 200);
  const claims = claimsOf(res);
  assert.equal(claims.realm, "localrealm");
  assert.equal("aud" in claims, false, "jwt.aud: authotron-test is ignored, as in the original");
  assert.equal(gw.logs.filter((l) => l.includes("startup.jwt.aud_ignored")).length, 1);
});

Deno.test("auth-o-tron's documented complete example is refused only for its MongoDB store, naming the way out", async () => {
  const path = new URL("../fixtures/config/original_docs_example.yaml", import.meta.url).pathname;
  const text = await Deno.readTextFile(path);
  const error = await loadConfig(path, {}).then(() => undefined, (e: Error) => e);
  assert.match(
    String(error?.message),
    /store\.type: the mongo backend is not supported by this gateway; set store\.type: deno-kv .*deno task import-tokens/,
  );
  const dir = await Deno.makeTempDir({ prefix: "aot-compat-" });
  try {
    const kv = text.replace("type: mongo", `type: deno-kv\n  path: ${dir}/tokens.kv`);
    await Deno.writeTextFile(`${dir}/config.yaml`, kv);
    const config = await loadConfig(`${dir}/config.yaml`, {});
    assert.equal(config.store.type, "deno-kv", "the only change needed is the store");
    assert.equal(config.jwt.audIgnored, true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
