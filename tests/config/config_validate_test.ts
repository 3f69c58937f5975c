import assert from "node:assert/strict";
import { parseConfig } from "../../lib/config/load.ts";
import { configError, edit, MINIMAL, without } from "./helpers.ts";
import { BRUTE_FORCE_DEFAULTS } from "../../lib/config/brute_force.ts";

const parse = (text: string, env: Record<string, string> = {}) =>
  parseConfig(text, "config.yaml", env);

Deno.test("parseConfig() version must be the string 1.0.0 or 2.0.0 (checklist 3)", () => {
  const cases: [string, RegExp][] = [
    ['version: "3.0.0"', /config\.yaml:1:10 version: unknown version "3\.0\.0"/],
    [
      "version: 2.0",
      /config\.yaml:1:10 version: expected "1\.0\.0" or "2\.0\.0" as a string, got 2;/,
    ],
    ["version: 2", /version: expected .* as a string, got 2/],
    ["version: 1", /version: expected .* as a string, got 1/],
  ];
  for (const [line, pattern] of cases) {
    const error = configError(() => parse(edit('version: "2.0.0"', line)));
    assert.match(error.message, pattern);
  }
  const missing = configError(() => parse(without("version")));
  assert.match(missing.message, /^config\.yaml:1:1 version: is required/);
  assert.equal(parse(edit('version: "2.0.0"', "version: 2.0.0")).sourceVersion, "2.0.0");
});

Deno.test("parseConfig() v2 requires server, providers, jwt and logging (checklist 4, 5)", () => {
  for (const key of ["server", "providers", "jwt", "logging"]) {
    const error = configError(() => parse(without(key)));
    assert.deepEqual(error.keyPath, [key]);
    assert.match(error.message, new RegExp(`^config\\.yaml:1:1 ${key}: is required$`));
  }
  const noPort = configError(() => parse(edit("  port: 8080", "  host: h")));
  assert.equal(noPort.message, "config.yaml:3:3 server.port: is required");
  for (const key of ["iss", "exp", "secret"]) {
    const error = configError(() => parse(without(`  ${key}`)));
    assert.match(error.message, new RegExp(`^config\\.yaml:9:3 jwt\\.${key}: is required$`));
  }
  for (const key of ["level", "format"]) {
    const error = configError(() => parse(without(`  ${key}`)));
    assert.match(error.message, new RegExp(`logging\\.${key}: is required$`));
  }
});

Deno.test("parseConfig() a file without store or services starts: no store, no services (row 5)", () => {
  const bare = parse(without("services", without("store")));
  assert.deepEqual(bare.services, []);
  assert.equal(bare.store.enabled, false);
  assert.deepEqual(bare.store, parse(MINIMAL).store, "the same as store: { enabled: false }");
  assert.equal(parse(edit("store:\n  enabled: false", "store:")).store.enabled, false);
  assert.deepEqual(parse(edit("services: []", "services:")).services, []);
});

Deno.test("parseConfig() wrong types name line, column and key path", () => {
  const cases: [string, string, string][] = [
    [
      "  port: 8080",
      "  port: abc",
      'config.yaml:3:9 server.port: expected an integer between 0 and 65535, got "abc"',
    ],
    [
      "  port: 8080",
      "  port: 70000",
      "config.yaml:3:9 server.port: expected an integer between 0 and 65535, got 70000",
    ],
    [
      "  port: 8080",
      "  port: -1",
      "config.yaml:3:9 server.port: expected an integer between 0 and 65535, got -1",
    ],
    [
      "  port: 8080",
      '  port: "8080"',
      'config.yaml:3:9 server.port: expected an integer between 0 and 65535, got "8080"',
    ],
    ["  exp: 3600", "  exp: 1.5", "config.yaml:10:8 jwt.exp: expected an integer, got 1.5"],
    ["  iss: my-iss", "  iss: 12", "config.yaml:9:8 jwt.iss: expected a string, got 12"],
    [
      "  enabled: false",
      "  enabled: 'no'",
      'config.yaml:5:12 store.enabled: expected true or false, got "no"',
    ],
    ["services: []", "services: {}", "config.yaml:6:11 services: expected a list, got a mapping"],
    [
      "services: []",
      "services: [{name: s, scopes: [1]}]",
      "config.yaml:6:31 services[0].scopes[0]: expected a string, got 1",
    ],
    ["services: []", "services: [{name: s}]", "config.yaml:6:12 services[0].scopes: is required"],
    ["jwt:\n", "jwt: 5\nx:\n", "config.yaml:8:6 jwt: expected a mapping, got 5"],
  ];
  for (const [from, to, message] of cases) {
    assert.equal(configError(() => parse(edit(from, to))).message, message);
  }
  assert.equal(parse(edit("  exp: 3600", "  exp: -3600")).jwt.exp, -3600);
});

Deno.test("parseConfig() never echoes secret values in errors", () => {
  const secret = configError(() => parse(edit("  secret: s3cr3t", "  secret: 123456789")));
  assert.equal(secret.message, "config.yaml:11:11 jwt.secret: expected a string, got an integer");
  const empty = configError(() => parse(edit("  secret: s3cr3t", '  secret: ""')));
  assert.equal(empty.message, "config.yaml:11:11 jwt.secret: must not be empty");
  const uri = configError(() =>
    parse(edit("  enabled: false", "  enabled: true\n  type: postgres\n  uri: 5432"))
  );
  assert.equal(uri.message, "config.yaml:7:8 store.uri: expected a string, got an integer");
  const uriWithPassword = configError(() =>
    parse(edit("  enabled: false", "  enabled: true\n  type: mongodb://u:hunter2@h/db"))
  );
  assert.doesNotMatch(uriWithPassword.message, /hunter2/);
  assert.match(uriWithPassword.message, /store\.type: unknown store type a string/);
});

Deno.test("parseConfig() logging level is trimmed and lower-cased; an invalid one lists the valid values (checklist 15)", () => {
  assert.equal(parse(edit("  level: info", '  level: " WARN "')).logging.level, "warn");
  const error = configError(() => parse(edit("  level: info", "  level: verbose")));
  assert.equal(
    error.message,
    'config.yaml:13:10 logging.level: expected one of trace, debug, info, warn, error, got "verbose"',
  );
  assert.equal(parse(edit("  format: json", "  format: JSON")).logging.format, "json");
  assert.equal(parse(edit("  format: json", "  format: console")).logging.format, "console");
  assert.equal(parse(edit("  format: json", "  format: fancy")).logging.format, "console");
});

Deno.test("parseConfig() port collision is refused (checklist 8)", () => {
  const error = configError(() => parse(MINIMAL + "metrics:\n  port: 8080\n"));
  assert.equal(
    error.message,
    "config.yaml:16:9 metrics.port: application port and metrics port are both 8080, they must be different",
  );
  // Both on port 0: the OS picks two different ports, so no collision.
  const zero = parse(
    edit("  port: 8080", "  port: 0") + "metrics: {port: 0}\n",
  );
  assert.deepEqual([zero.server.port, zero.metrics.port], [0, 0]);
  const disabled = parse(MINIMAL + "metrics:\n  enabled: false\n  port: 8080\n");
  assert.deepEqual(disabled.metrics, { enabled: false, port: 8080 });
  const custom = parse(MINIMAL + "metrics:\n  port: 9100\n");
  assert.deepEqual(custom.metrics, { enabled: true, port: 9100 });
});

Deno.test("parseConfig() auth timeouts and upstream failure status", () => {
  const config = parse(MINIMAL + "auth:\n  timeout_in_ms: 250\n");
  assert.deepEqual(config.auth, {
    timeoutInMs: 250,
    augmenterTimeoutInMs: 250,
    upstreamFailureStatus: 503,
    decisionCacheTtlMs: 1000,
    pluginCreateTimeoutMs: 30_000,
    bruteForce: BRUTE_FORCE_DEFAULTS,
  });
  assert.equal(parse(MINIMAL + "auth:\n").auth.timeoutInMs, 5000);
  assert.equal(parse(MINIMAL + "auth: {timeout_in_ms: 0}\n").auth.timeoutInMs, 0);
  for (
    const [text, pattern] of [
      [
        "auth: {timeout_in_ms: -1}",
        /auth\.timeout_in_ms: expected an integer between 0 and 2147483647, got -1/,
      ],
      ["auth: {timeout_in_ms: 2147483648}", /auth\.timeout_in_ms: expected an integer between 0/],
      [
        "auth: {upstream_failure_status: 500}",
        /auth\.upstream_failure_status: expected 401 or 503, got 500/,
      ],
      ["auth: {augmenter_timeout_in_ms: x}", /auth\.augmenter_timeout_in_ms: expected an integer/],
    ] as const
  ) {
    assert.match(configError(() => parse(MINIMAL + text + "\n")).message, pattern);
  }
});

Deno.test("parseConfig() include_legacy_headers is a boolean, null means false", () => {
  assert.equal(parse(MINIMAL + "include_legacy_headers:\n").includeLegacyHeaders, false);
  assert.equal(parse(MINIMAL + "include_legacy_headers: true\n").includeLegacyHeaders, true);
  const error = configError(() => parse(MINIMAL + "include_legacy_headers: yes\n"));
  assert.match(error.message, /include_legacy_headers: expected true or false, got "yes"/);
});

Deno.test("parseConfig() store backends: deno-kv default, postgres needs uri, mongo refused (checklist 17)", () => {
  const store = (body: string) => parse(edit("store:\n  enabled: false", `store:\n${body}`)).store;
  assert.deepEqual(store("  enabled: true"), {
    enabled: true,
    type: "deno-kv",
    path: "./data/tokens.kv",
    defaultTtl: 2592000,
    maxTtl: 31536000,
  });
  assert.equal(store("  enabled: true\n  path: /tmp/x.kv").path, "/tmp/x.kv");
  // Disabled: backend keys (even an unsupported type) are ignored.
  assert.equal(store("  enabled: false\n  type: mongo\n  uri: x\n  database: d").type, "deno-kv");
  const noUri = configError(() => store("  enabled: true\n  type: postgres"));
  assert.equal(noUri.message, "config.yaml:5:3 store.uri: is required when store.type is postgres");
  const mongo = configError(() =>
    store("  enabled: true\n  type: mongo\n  uri: mongodb://h\n  database: d")
  );
  assert.equal(
    mongo.message,
    "config.yaml:6:9 store.type: the mongo backend is not supported by this gateway; " +
      "set store.type: deno-kv (with store.path) or postgres (with store.uri), then copy the " +
      'existing tokens with "deno task import-tokens <mongoexport file>" (docs/tokens.md)',
  );
  const other = configError(() => store("  enabled: true\n  type: redis"));
  assert.match(
    other.message,
    /store\.type: unknown store type "redis"; supported types: deno-kv, postgres/,
  );
  const ttl = configError(() => store("  enabled: true\n  default_ttl: 100\n  max_ttl: 10"));
  assert.match(
    ttl.message,
    /store\.default_ttl: default_ttl \(100\) must not be greater than max_ttl \(10\)/,
  );
  const zero = configError(() => store("  enabled: true\n  max_ttl: 0"));
  assert.match(zero.message, /store\.max_ttl: expected an integer between 1 and/);
  const noEnabled = configError(() => store("  type: deno-kv"));
  assert.match(noEnabled.message, /store\.enabled: is required/);
});

Deno.test("parseConfig() unknown keys are ignored everywhere (checklist 16)", () => {
  const config = parse(
    edit("  port: 8080", "  port: 8080\n  typo_hots: x") +
      "surprise: {a: [1]}\nconfig_path: ignored\n",
  );
  assert.equal(config.server.host, "0.0.0.0");
});
