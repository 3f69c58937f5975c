import assert from "node:assert/strict";
import { configPathFromEnv, loadConfig, MAX_CONFIG_BYTES } from "../../lib/config/load.ts";
import { VERSION } from "../../lib/config/types.ts";
import { configErrorAsync, fixture, MINIMAL } from "./helpers.ts";
import { BRUTE_FORCE_DEFAULTS } from "../../lib/config/brute_force.ts";

async function withTempFile<T>(
  contents: string | Uint8Array,
  fn: (path: string) => Promise<T>,
): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "aot_config_" });
  const path = `${dir}/config.yaml`;
  try {
    if (typeof contents === "string") await Deno.writeTextFile(path, contents);
    else await Deno.writeFile(path, contents);
    return await fn(path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("loadConfig() minimal v2 gets the defaults (checklist 6, 18)", async () => {
  const config = await loadConfig(fixture("minimal_v2.yaml"), {});
  assert.equal(config.sourceVersion, "2.0.0");
  assert.deepEqual(config.server, { host: "0.0.0.0", port: 8080 });
  assert.deepEqual(config.metrics, { enabled: true, port: 9090 });
  assert.deepEqual(config.auth, {
    timeoutInMs: 5000,
    augmenterTimeoutInMs: 5000,
    upstreamFailureStatus: 503,
    decisionCacheTtlMs: 1000,
    pluginCreateTimeoutMs: 30_000,
    bruteForce: BRUTE_FORCE_DEFAULTS,
  });
  assert.deepEqual(config.augmenters, []);
  assert.deepEqual(config.providers, []);
  assert.deepEqual(config.services, []);
  assert.equal(config.includeLegacyHeaders, false);
  assert.deepEqual(config.jwt, {
    iss: "my-iss",
    exp: 3600,
    secret: "s3cr3t",
    audIgnored: false,
    algorithm: "HS256",
    keys: [],
    includeJti: false,
    includeNbf: false,
  });
  assert.deepEqual(config.logging, {
    level: "info",
    format: "json",
    serviceName: "authotron",
    serviceVersion: VERSION,
  });
  assert.deepEqual(config.store, {
    enabled: false,
    type: "deno-kv",
    path: "./data/tokens.kv",
    defaultTtl: 2592000,
    maxTtl: 31536000,
  });
  assert.equal(config.file, fixture("minimal_v2.yaml"));
  assert.equal(config.fileUrl.href, `file://${fixture("minimal_v2.yaml")}`);
});

Deno.test("loadConfig() reads every key of a full v2 file (unknown keys ignored, checklist 16)", async () => {
  const config = await loadConfig(fixture("full_v2.yaml"), {});
  assert.deepEqual(config.server, { host: "127.0.0.1", port: 8081 });
  assert.deepEqual(config.metrics, { enabled: true, port: 9191 });
  assert.deepEqual(config.auth, {
    timeoutInMs: 3000,
    augmenterTimeoutInMs: 800,
    upstreamFailureStatus: 401,
    decisionCacheTtlMs: 1000,
    pluginCreateTimeoutMs: 30_000,
    bruteForce: BRUTE_FORCE_DEFAULTS,
  });
  assert.deepEqual(config.jwt, {
    iss: "https://auth.example.test",
    exp: -5,
    secret: "a-long-enough-secret-for-hs256-signing",
    audIgnored: true,
    algorithm: "HS256",
    keys: [],
    includeJti: false,
    includeNbf: false,
  });
  assert.equal(config.includeLegacyHeaders, true);
  assert.deepEqual(config.logging, {
    level: "debug",
    format: "console",
    serviceName: "gateway",
    serviceVersion: "9.9.9",
  });
  assert.deepEqual(config.store, {
    enabled: true,
    type: "postgres",
    path: "./data/tokens.kv",
    uri: "postgres://user:pw@127.0.0.1:5432/tokens",
    defaultTtl: 60,
    maxTtl: 3600,
  });
  assert.deepEqual(config.services, [{ name: "svc", scopes: ["read", "write"] }]);
  const [plain, custom] = config.providers;
  assert.deepEqual(plain, {
    kind: "provider",
    index: 0,
    path: ["providers", 0],
    name: "local",
    id: "local",
    realm: "ecmwf",
    type: "plain",
    onError: "skip",
    upstreamLimits: { maxConcurrent: 64, maxPerSecond: 200 },
    options: {
      users: [
        { username: "alice", password: "alice-pw", roles: ["admin"] },
        { username: "bob", password: "bob-pw" },
      ],
    },
  });
  // Providers have no on_error host key: it is an option like any other.
  assert.deepEqual(custom, {
    kind: "provider",
    index: 1,
    path: ["providers", 1],
    name: "custom",
    id: "custom",
    realm: "",
    module: "./plugins/custom.ts",
    onError: "skip",
    upstreamLimits: { maxConcurrent: 64, maxPerSecond: 200 },
    options: { on_error: "fail", endpoint: "http://127.0.0.1:1/" },
  });
  assert.deepEqual(
    config.augmenters.map((a) => [a.kind, a.name, a.type, a.onError, a.path]),
    [
      ["augmenter", "extra", "plain_advanced", "fail", ["augmenters", 0]],
      ["augmenter", "directory", "ldap", "skip", ["augmenters", 1]],
    ],
  );
  assert.deepEqual(config.augmenters[0].options, {
    match: { username: ["alice"] },
    augment: { roles: ["extra"] },
  });
  assert.deepEqual(config.augmenters[1].options, {
    uri: "ldap://127.0.0.1:389",
  });
});

Deno.test("loadConfig() migrates a v1 file: bracketed IPv6, metrics key ignored (checklist 9, 10)", async () => {
  const config = await loadConfig(fixture("v1.yaml"), {});
  assert.equal(config.sourceVersion, "1.0.0");
  assert.deepEqual(config.server, { host: "::1", port: 3000 });
  assert.deepEqual(config.metrics, { enabled: true, port: 9090 });
  assert.equal(config.providers[0].name, "Plain provider");
  assert.equal(config.logging.format, "console");
});

Deno.test("loadConfig() locate maps a deep plugin path to its line and column", async () => {
  const file = fixture("bad_password_type.yaml");
  const config = await loadConfig(file, {});
  const password = config.providers[1].options.users as unknown[];
  assert.deepEqual(password, [
    { username: "alice", password: { nested: "not-a-string" } },
  ]);
  // `nested:` under `password:` on line 18, column 11.
  assert.deepEqual(config.locate(["providers", 1, "users", 0, "password"]), {
    file,
    line: 18,
    col: 11,
  });
  assert.deepEqual(config.locate(["providers", 1, "users", 0, "username"]), {
    file,
    line: 16,
    col: 19,
  });
  // A missing key maps to the nearest value that exists.
  assert.deepEqual(config.locate(["providers", 1, "users", 0, "roles"]), {
    file,
    line: 16,
    col: 9,
  });
  assert.deepEqual(config.locate(["server", "port"]), {
    file,
    line: 3,
    col: 9,
  });
});

Deno.test("loadConfig() a missing file is ERR_CONFIG_READ naming the path (checklist 2)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/nope.yaml`;
    const error = await configErrorAsync(
      () => loadConfig(path, {}),
      "ERR_CONFIG_READ",
    );
    assert.match(error.message, /nope\.yaml does not exist/);
    assert.match(error.message, /AOT_CONFIG_PATH/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadConfig() a missing file with AOT_VERSION set is an env-only config", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const config = await loadConfig(`${dir}/absent.yaml`, {
      AOT_VERSION: "2.0.0",
      AOT_SERVER__PORT: "8081",
      AOT_STORE__ENABLED: "false",
      AOT_SERVICES: "[]",
      AOT_PROVIDERS: '[{type="plain",name="p",realm="r",users=[{username="u",password="p"}]}]',
      AOT_JWT: '{iss="env-iss", exp=60, secret="env-secret"}',
      AOT_LOGGING__LEVEL: "info",
      AOT_LOGGING__FORMAT: "json",
    });
    assert.equal(config.server.port, 8081);
    assert.equal(config.jwt.iss, "env-iss");
    assert.deepEqual(config.providers[0].options, {
      users: [{ username: "u", password: "p" }],
    });
    assert.deepEqual(config.locate(["providers", 0, "users", 0]), {
      file: `${dir}/absent.yaml`,
      env: "AOT_PROVIDERS",
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadConfig() a directory, a huge file or invalid UTF-8 is ERR_CONFIG_READ", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const error = await configErrorAsync(
      () => loadConfig(dir, {}),
      "ERR_CONFIG_READ",
    );
    assert.match(error.message, /not a regular file/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  await withTempFile(new Uint8Array([0x61, 0x3a, 0x20, 0xff, 0x0a]), async (path) => {
    const error = await configErrorAsync(() => loadConfig(path, {}), "ERR_CONFIG_READ");
    assert.match(error.message, /not valid UTF-8/);
  });
  await withTempFile("#".repeat(MAX_CONFIG_BYTES + 1), async (path) => {
    const error = await configErrorAsync(() => loadConfig(path, {}), "ERR_CONFIG_READ");
    assert.match(error.message, /larger than/);
  });
});

Deno.test("loadConfig() a byte-order mark is accepted", async () => {
  await withTempFile("\ufeff" + MINIMAL, async (path) => {
    const config = await loadConfig(path, {});
    assert.equal(config.server.port, 8080);
  });
});

Deno.test("loadConfig() env overrides from AOT_CONFIG_PATH's environment win (checklist 12, 13, 14)", async () => {
  await withTempFile(MINIMAL, async (path) => {
    const env = {
      AOT_CONFIG_PATH: path,
      AOT_JWT__ISS: "from-env",
      AOT_SERVER__PORT: "8081",
      AOT_METRICS__ENABLED: "false",
    };
    const config = await loadConfig(configPathFromEnv(env), env);
    assert.equal(config.file, path);
    assert.equal(config.jwt.iss, "from-env");
    assert.equal(config.server.port, 8081);
    assert.equal(config.metrics.enabled, false);
  });
});

Deno.test("loadConfig() a YAML syntax error names file, line and column (checklist 2)", async () => {
  await withTempFile(MINIMAL + "broken: [1, 2\nnext: 3\n", async (path) => {
    const error = await configErrorAsync(
      () => loadConfig(path, {}),
      "ERR_CONFIG_SYNTAX",
    );
    assert.equal(error.position.file, path);
    assert.equal(error.position.line, 16);
    assert.ok(error.message.startsWith(`${path}:16:`), error.message);
  });
});

Deno.test("loadConfig() uses the process environment by default", async () => {
  const name = "AOT_LOGGING__SERVICE_NAME";
  Deno.env.set(name, "from-process-env");
  try {
    const config = await loadConfig(fixture("minimal_v2.yaml"));
    assert.equal(config.logging.serviceName, "from-process-env");
  } finally {
    Deno.env.delete(name);
  }
});

Deno.test("configPathFromEnv() uses AOT_CONFIG_PATH, else ./config.yaml", () => {
  assert.equal(configPathFromEnv({}), "./config.yaml");
  assert.equal(configPathFromEnv({ AOT_CONFIG_PATH: "" }), "./config.yaml");
  assert.equal(configPathFromEnv({ AOT_CONFIG_PATH: "/etc/a.yaml" }), "/etc/a.yaml");
});
