import assert from "node:assert/strict";
import { parseConfig } from "../../lib/config/load.ts";
import { parseEnvValue } from "../../lib/config/env_value.ts";
import { applyEnvOverrides, envOverrides } from "../../lib/config/env.ts";
import { configError, edit, MINIMAL, without } from "./helpers.ts";

const parse = (env: Record<string, string>, text = MINIMAL) =>
  parseConfig(text, "config.yaml", env);

Deno.test("parseEnvValue() types values like figment", () => {
  const cases: [string, unknown][] = [
    ["true", true],
    ["false", false],
    ["8081", 8081],
    ["-42", -42],
    ["+7", 7],
    ["1.5", 1.5],
    ["2.", 2],
    [".5", 0.5],
    ["1e3", "1e3"],
    ["2.0.0", "2.0.0"],
    ["9007199254740993", "9007199254740993"],
    ["hello world", "hello world"],
    ["  padded  ", "padded"],
    ["", ""],
    ['"12345"', "12345"],
    ['"a\\"b\\\\c\\n\\u00e9\\U0001F600"', 'a"b\\c\né😀'],
    ['"bad \\q escape"', '"bad \\q escape"'],
    ['"unterminated', '"unterminated'],
    ["'x'", "x"],
    ["[]", []],
    ["[a, b]", ["a", "b"]],
    ['[1, true, 2.5, "s", [x]]', [1, true, 2.5, "s", ["x"]]],
    ["[a,]", ["a"]],
    ["{}", {}],
    ['{k=v, k2="x", n=3, "quoted key"=[1]}', { k: "v", k2: "x", n: 3, "quoted key": [1] }],
    ["a,b", "a,b"],
    ["http://x/{id}", "http://x/{id}"],
    ["[a, b", "[a, b"],
    ["{k v}", "{k v}"],
    ["truex", "truex"],
    ["true story", "true story"],
    ["[".repeat(100) + "]".repeat(100), "[".repeat(100) + "]".repeat(100)],
  ];
  for (const [text, expected] of cases) {
    assert.deepEqual(parseEnvValue(text), expected, text);
  }
});

Deno.test("envOverrides() picks AOT_* case-insensitively, lower-cases and splits on __", () => {
  const overrides = envOverrides({
    aot_jwt__ISS: "x",
    AOT_SERVER__PORT: "1",
    AOT_INCLUDE_LEGACY_HEADERS: "true",
    AOTX: "no",
    HOME: "/root",
    AOT_: "empty",
    AOT_A____B: "empty segment",
  }, "c.yaml");
  assert.deepEqual(overrides.map((o) => [o.name, o.path, o.value]), [
    ["AOT_INCLUDE_LEGACY_HEADERS", ["include_legacy_headers"], true],
    ["AOT_SERVER__PORT", ["server", "port"], 1],
    ["aot_jwt__ISS", ["jwt", "iss"], "x"],
  ]);
});

Deno.test("envOverrides() refuses prototype keys in names and inline tables", () => {
  const envs: Record<string, string>[] = [
    { AOT_CONSTRUCTOR__PROTOTYPE__ADMIN: "true" },
    { AOT_JWT: '{"__proto__"={admin=true}}' },
    { AOT_PROVIDERS: "[{constructor={prototype={admin=true}}}]" },
  ];
  for (const env of envs) {
    const error = configError(() => envOverrides(env, "c.yaml"));
    assert.match(
      error.message,
      /__proto__, constructor and prototype are not allowed.*\(from AOT_/,
    );
    assert.equal(error.position.env, Object.keys(env)[0]);
  }
  assert.equal(({} as Record<string, unknown>).admin, undefined);
});

Deno.test("applyEnvOverrides() merges tables key by key, replaces lists whole and records origins", () => {
  const root = {
    jwt: { iss: "file", exp: 1 },
    providers: [{ name: "a" }, { name: "b" }],
    port: 1,
  };
  const origin = applyEnvOverrides(
    root,
    envOverrides({
      AOT_JWT: "{secret=s}",
      AOT_JWT__ISS: "env",
      AOT_PROVIDERS: "[{name=c}]",
      AOT_PORT__INNER: "2",
    }, "c.yaml"),
  );
  assert.deepEqual(root, {
    jwt: { iss: "env", exp: 1, secret: "s" },
    providers: [{ name: "c" }],
    port: { inner: 2 },
  });
  assert.equal(origin(["jwt", "iss"]), "AOT_JWT__ISS");
  assert.equal(origin(["jwt", "secret"]), "AOT_JWT");
  assert.equal(origin(["jwt", "exp"]), undefined);
  assert.equal(origin(["jwt"]), undefined);
  assert.equal(origin(["providers", 0, "name"]), "AOT_PROVIDERS");
  assert.equal(origin(["port"]), "AOT_PORT__INNER");
});

Deno.test("parseConfig() AOT_JWT__ISS wins over YAML; AOT_SERVER__PORT becomes an integer", () => {
  const config = parse({
    AOT_JWT__ISS: "env-iss",
    AOT_SERVER__PORT: "8081",
    AOT_SERVER__HOST: "127.0.0.1",
    AOT_METRICS__ENABLED: "false",
    AOT_METRICS__PORT: "9100",
    AOT_AUTH__TIMEOUT_IN_MS: "3000",
    AOT_LOGGING__LEVEL: "debug",
    AOT_INCLUDE_LEGACY_HEADERS: "true",
    AOT_CONFIG_PATH: "/somewhere/else.yaml",
  });
  assert.equal(config.jwt.iss, "env-iss");
  assert.deepEqual(config.server, { host: "127.0.0.1", port: 8081 });
  assert.deepEqual(config.metrics, { enabled: false, port: 9100 });
  assert.equal(config.auth.timeoutInMs, 3000);
  assert.equal(config.logging.level, "debug");
  assert.equal(config.includeLegacyHeaders, true);
  assert.deepEqual(config.locate(["jwt", "iss"]), { file: "config.yaml", env: "AOT_JWT__ISS" });
  assert.deepEqual(config.locate(["jwt", "exp"]), { file: "config.yaml", line: 10, col: 8 });
});

Deno.test("parseConfig() AOT_METRICS__ENABLED=false resolves a port collision", () => {
  const text = MINIMAL + "metrics:\n  port: 8080\n";
  assert.match(configError(() => parse({}, text)).message, /must be different/);
  assert.equal(parse({ AOT_METRICS__ENABLED: "false" }, text).metrics.enabled, false);
  const collide = configError(() => parse({ AOT_METRICS__PORT: "8080" }));
  assert.equal(
    collide.message,
    "config.yaml metrics.port: application port and metrics port are both 8080, they must be different (from AOT_METRICS__PORT)",
  );
});

Deno.test("parseConfig() a numeric AOT_JWT__SECRET fails with a quoting hint; a quoted one works", () => {
  const error = configError(() => parse({ AOT_JWT__SECRET: "12345" }));
  assert.equal(
    error.message,
    `config.yaml jwt.secret: expected a string, got an integer (from AOT_JWT__SECRET); environment values that look like numbers or booleans are typed, so quote it: AOT_JWT__SECRET='"…"'`,
  );
  assert.doesNotMatch(error.message, /12345/);
  assert.deepEqual(error.position, { file: "config.yaml", env: "AOT_JWT__SECRET" });
  assert.equal(parse({ AOT_JWT__SECRET: '"12345"' }).jwt.secret, "12345");
  const port = configError(() => parse({ AOT_SERVER__PORT: "abc" }));
  assert.equal(
    port.message,
    'config.yaml server.port: expected an integer between 0 and 65535, got "abc" (from AOT_SERVER__PORT)',
  );
});

Deno.test("parseConfig() AOT_PROVIDERS replaces the list with inline tables", () => {
  const config = parse({
    AOT_PROVIDERS:
      '[{type="plain",name="p",realm="r",users=[{username="u",password="p"}]}, {module="./m.ts", name="q", realm=""}]',
    AOT_SERVICES: '[{name="s", scopes=[a, b]}]',
  }, edit("providers: []", "providers:\n  - {type: jwt, name: file, realm: r}"));
  assert.deepEqual(config.providers.map((p) => [p.name, p.type, p.module]), [
    ["p", "plain", undefined],
    ["q", undefined, "./m.ts"],
  ]);
  assert.deepEqual(config.providers[0].options, { users: [{ username: "u", password: "p" }] });
  assert.deepEqual(config.services, [{ name: "s", scopes: ["a", "b"] }]);
  const bad = configError(() => parse({ AOT_PROVIDERS: '[{type="plain", realm="r"}]' }));
  assert.equal(bad.message, "config.yaml providers[0].name: is required (from AOT_PROVIDERS)");
});

Deno.test("parseConfig() AOT_PROVIDERS__0__NAME makes a table, which fails as in the original", () => {
  const error = configError(() => parse({ AOT_PROVIDERS__0__NAME: "x" }));
  assert.equal(
    error.message,
    "config.yaml providers: expected a list, got a mapping (from AOT_PROVIDERS__0__NAME)",
  );
});

Deno.test("parseConfig() env can supply a section missing from the file", () => {
  const config = parse({
    AOT_STORE__ENABLED: "true",
    AOT_STORE__TYPE: "postgres",
    AOT_STORE__URI: "postgres://h/db",
  }, without("store"));
  assert.deepEqual(config.store, {
    enabled: true,
    type: "postgres",
    path: "./data/tokens.kv",
    uri: "postgres://h/db",
    defaultTtl: 2592000,
    maxTtl: 31536000,
  });
  const version = configError(() => parse({ AOT_VERSION: "2.0" }));
  assert.match(
    version.message,
    /version: expected "1\.0\.0" or "2\.0\.0" as a string, got 2;.*\(from AOT_VERSION\)/,
  );
});
