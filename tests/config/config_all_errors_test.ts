import assert from "node:assert/strict";
import { parseConfig } from "../../lib/config/load.ts";
import { checkPlugins } from "../../lib/gateway.ts";
import { ConfigError, ConfigErrors } from "../../lib/util/errors.ts";
import { mainCommand } from "../lifecycle/main_process.ts";

const MANY = `version: "2.0.0"
server: { host: 127.0.0.1, port: "x" }
metrics: { enabled: maybe }
store: { enabled: false }
services: []
providers:
  - type: plain
    name: a
    relam: demo
  - { type: plain, name: ok, realm: demo, users: [] }
jwt: { iss: i, secret: s }
logging: { level: loud, format: json }
`;

const EXPECTED = [
  'config.yaml:2:34 server.port: expected an integer between 0 and 65535, got "x"',
  'config.yaml:3:21 metrics.enabled: expected true or false, got "maybe"',
  'config.yaml:7:5 providers[0].realm: is required (found "relam": did you mean realm?)',
  "config.yaml:11:6 jwt.exp: is required",
  'config.yaml:12:19 logging.level: expected one of trace, debug, info, warn, error, got "loud"',
];

Deno.test("parseConfig() reports every section's and entry's problem, in file order", () => {
  let error: unknown;
  try {
    parseConfig(MANY, "config.yaml", {});
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof ConfigErrors, String(error));
  assert.ok(error instanceof ConfigError, "still a ConfigError for every caller");
  assert.deepEqual(error.errors.map((e) => e.message), EXPECTED);
  assert.equal(error.message, EXPECTED.join("\n"));
  assert.equal(error.code, "ERR_CONFIG_INVALID");
});

Deno.test("checkPlugins() reports every entry's problem, not just the first", async () => {
  const config = parseConfig(
    `version: "2.0.0"
server: { port: 0 }
store: { enabled: false }
services: []
providers:
  - { type: nope, name: b, realm: demo }
  - { type: jwt, name: c, realm: demo }
jwt: { iss: i, exp: 60, secret: s }
logging: { level: info, format: json }
`,
    "config.yaml",
    {},
  );
  await assert.rejects(() => checkPlugins(config), (error: unknown) => {
    assert.ok(error instanceof ConfigErrors);
    assert.deepEqual(error.errors.map((e) => e.keyPath), [
      ["providers", 0, "type"],
      ["providers", 1, "cert_uri"],
    ]);
    return true;
  });
});

Deno.test("main.ts --check-config prints one line per problem, exit 1", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/config.yaml`;
    await Deno.writeTextFile(path, MANY);
    const out = await mainCommand(["--check-config", path]).output();
    assert.equal(out.code, 1);
    assert.deepEqual(
      new TextDecoder().decode(out.stderr).trim().split("\n"),
      EXPECTED.map((line) => `Error loading configuration: ${line.replace("config.yaml", path)}`),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
