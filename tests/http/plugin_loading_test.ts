import assert from "node:assert/strict";
import { loadConfig } from "../../lib/config/load.ts";
import { ConfigError } from "../../lib/util/errors.ts";
import { checkPlugins } from "../../lib/gateway.ts";
import { startGateway, testConfig } from "../support/gateway.ts";

const FIXTURES = new URL("../fixtures/plugins/", import.meta.url).pathname;

async function checkError(providers: string): Promise<ConfigError> {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/config.yaml`;
    await Deno.writeTextFile(path, testConfig(providers));
    const config = await loadConfig(path, {});
    const error = await checkPlugins(config).then(() => undefined, (e) => e);
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
    return error;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("plugin loader: module paths resolve relative to the config file", async () => {
  await using gw = await startGateway(
    testConfig(`providers:
  - { module: ./my_provider.ts, name: mine, realm: r, token: abc, username: robot }
`),
    {
      files: {
        "my_provider.ts": `export default {
  scheme: "Bearer",
  create: (o) => ({ authenticate: (c) => c === o.token ? { username: o.username } : undefined }),
};`,
      },
    },
  );
  const { res } = await gw.request("/authenticate", { headers: { authorization: "Bearer abc" } });
  assert.equal(res.status, 200);
});

Deno.test("plugin loader: an unknown type lists the valid ones and names the key", async () => {
  const error = await checkError(`providers:\n  - { type: ldap, name: x, realm: r }\n`);
  assert.equal(error.code, "ERR_PLUGIN_LOAD");
  assert.match(error.message, /providers\[0\]\.type/);
  assert.match(error.message, /valid types: plain, jwt, openid-offline/);
  assert.match(error.message, /config\.yaml:\d+:\d+/);
});

Deno.test("plugin loader: contract violations name the entry", async () => {
  const cases: [string, RegExp][] = [
    ["no_default.ts", /default export must be a provider object/],
    ["wrong_scheme.ts", /scheme must be "Basic" or "Bearer"/],
    ["missing.ts", /cannot import/],
  ];
  for (const [file, pattern] of cases) {
    const error = await checkError(
      `providers:\n  - { module: ${FIXTURES}${file}, name: p, realm: r }\n`,
    );
    assert.match(error.message, pattern, file);
    assert.match(error.message, /provider "p"/);
  }
});

Deno.test("plugin loader: a bad option names the full key path and line", async () => {
  const error = await checkError(`providers:
  - { type: plain, name: a, realm: r, users: [] }
  - type: plain
    name: b
    realm: r
    users:
      - username: x
        password: { nested: hunter2-value }
`);
  assert.equal(error.code, "ERR_PLUGIN_OPTIONS");
  assert.match(error.message, /providers\[1\]\.users\[0\]\.password: .*expected a string/);
  assert.equal(error.position.line, 15);
  assert.ok(!error.message.includes("hunter2-value"), "the bad secret value is not echoed");
});

Deno.test("plugin loader: create() failures and bad instances refuse startup", async () => {
  for (
    const [file, pattern] of [
      ["create_throws.ts", /create\(\) failed: cannot reach the directory/],
      ["bad_instance.ts", /must return an object with an authenticate\(\) method/],
    ] as const
  ) {
    const error = await startGateway(
      testConfig(`providers:\n  - { module: ${FIXTURES}${file}, name: p, realm: r }\n`),
    ).then(() => undefined, (e) => e);
    assert.ok(error instanceof ConfigError);
    assert.match(error.message, pattern);
  }
});

Deno.test("plugin loader: a create() that never resolves stops startup after auth.plugin_create_timeout_ms, naming the entry", async () => {
  const began = performance.now();
  const error = await startGateway(
    testConfig(`auth: { plugin_create_timeout_ms: 200 }
providers:
  - { type: plain, name: fine, realm: r, users: [] }
  - { module: ${FIXTURES}create_hangs.ts, name: stuck, realm: r }
`),
  ).then(() => undefined, (e) => e);
  const elapsed = performance.now() - began;
  assert.ok(error instanceof ConfigError, String(error));
  assert.equal(error.code, "ERR_PLUGIN_CREATE");
  assert.match(
    error.message,
    /config\.yaml:\d+:\d+ providers\[1\]: provider "stuck": create\(\) did not finish within 200 ms \(auth\.plugin_create_timeout_ms\)$/,
  );
  assert.ok(elapsed >= 200 && elapsed < 5000, `${elapsed} ms`);
});

Deno.test("startup logs startup.plugin.creating (debug) and startup.plugin.created (info, with duration)", async () => {
  await using gw = await startGateway(testConfig(`providers:
  - { type: plain, name: local, realm: r, users: [] }
`));
  const events = gw.logs.map((l) => JSON.parse(l)).filter((e) =>
    String(e.attributes["event.name"]).startsWith("startup.plugin.")
  );
  assert.deepEqual(
    events.map((e) => [e.attributes["event.name"], e.severityText, e.attributes.name]),
    [["startup.plugin.creating", "DEBUG", "local"], ["startup.plugin.created", "INFO", "local"]],
  );
  assert.equal(typeof events[1].attributes.duration_ms, "number");
  assert.equal(events[1].attributes.kind, "provider");
  assert.equal(events[1].attributes.type, "plain");
});
