import assert from "node:assert/strict";
import { loadConfig, parseConfig } from "../../lib/config/load.ts";
import { configJsonSchema } from "../../lib/config/load.ts";
import { describeUnknownKey } from "../../lib/config/unknown_keys.ts";
import { checkPlugins, unknownKeys } from "../../lib/gateway.ts";
import { closestName, editDistance } from "../../packages/plugin/_host/closest_name.ts";
import { formatKeyPath } from "../../lib/util/errors.ts";
import { fixture, MINIMAL } from "./helpers.ts";
import { mainCommand } from "../lifecycle/main_process.ts";
import { startGateway, testConfig } from "../support/gateway.ts";

const BASE = `version: "2.0.0"
server: { host: 127.0.0.1, port: 0 }
metrics: { enabled: false }
store: { enabled: false }
services: []
jwt: { iss: i, exp: 60, secret: s, algoritm: EdDSA }
logging: { level: info, format: json }
auth:
  upstream_failure_stauts: 401
  decision_cache_ttl: 5
providers:
  - { type: plain, name: local, realm: demo, users: [] }
augmenters:
  - type: plain
    name: a
    realm: demo
    on_eror: fail
    roles: {}
`;

/** The four typos, each reported with place and suggestion, in file order. */
const EXPECTED = [
  'config.yaml:6:36 jwt.algoritm: unknown key, ignored (did you mean "jwt.algorithm"?)',
  'config.yaml:9:3 auth.upstream_failure_stauts: unknown key, ignored (did you mean "auth.upstream_failure_status"?)',
  'config.yaml:10:3 auth.decision_cache_ttl: unknown key, ignored (did you mean "auth.decision_cache_ttl_ms"?)',
  'config.yaml:17:5 augmenters[0].on_eror: unknown key, ignored (did you mean "augmenters[0].on_error"?)',
];

Deno.test("unknown keys: each typo of the issue is reported with file:line:col and a suggestion", async () => {
  const config = parseConfig(BASE, "config.yaml", {});
  // Host keys of plugin entries are checked with the plugin's keys, once it is imported.
  assert.deepEqual(config.unknownKeys.map(describeUnknownKey), EXPECTED.slice(0, 3));
  // Still accepted, as auth-o-tron accepts them: the defaults apply.
  assert.equal(config.jwt.algorithm, "HS256");
  assert.equal(config.augmenters[0]!.onError, "skip");
  const checked = await checkPlugins(config);
  assert.deepEqual(unknownKeys(config, checked).map(describeUnknownKey), EXPECTED);
});

Deno.test("unknown keys: plugin options are checked against the plugin's optionKeys", async () => {
  const yaml = BASE.replace(
    "- { type: plain, name: local, realm: demo, users: [] }",
    "- { type: plain, name: local, realm: demo, user: [] }",
  );
  const config = parseConfig(yaml, "config.yaml", {});
  const lines = unknownKeys(config, await checkPlugins(config)).map(describeUnknownKey);
  assert.ok(
    lines.includes(
      'config.yaml:12:46 providers[0].user: unknown key, ignored (did you mean "providers[0].users"?)',
    ),
    lines.join("\n"),
  );
  // Every built-in declares its keys: a typo in a jwt provider is caught too.
  const jwt = parseConfig(
    yaml.replace(
      "- { type: plain, name: local, realm: demo, user: [] }",
      "- { type: jwt, name: j, realm: demo, cert_uri: 'https://idp.example/jwks', isuer: x }",
    ),
    "config.yaml",
    {},
  );
  const jwtLines = unknownKeys(jwt, await checkPlugins(jwt)).map(describeUnknownKey);
  assert.ok(
    jwtLines.some((l) => l.includes("providers[0].isuer") && l.includes('"providers[0].issuer"')),
  );
});

Deno.test("unknown keys: a plugin without optionKeys gets no report for its options", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const plugin = new URL("../fixtures/plugins/test_bearer.ts", import.meta.url).pathname;
    const config = parseConfig(
      MINIMAL.replace(
        "providers: []",
        `providers: [{ module: "${plugin}", name: t, realm: r, anything: 1 }]`,
      ),
      `${dir}/config.yaml`,
      {},
    );
    assert.deepEqual(unknownKeys(config, await checkPlugins(config)), []);
    // …but a misspelled host key is still reported: it is not passed by silently.
    const typo = parseConfig(
      MINIMAL.replace(
        "providers: []",
        `providers: [{ module: "${plugin}", name: t, realm: r, relm: 1 }]`,
      ),
      `${dir}/config.yaml`,
      {},
    );
    assert.deepEqual(
      unknownKeys(typo, await checkPlugins(typo)).map((k) => formatKeyPath(k.suggestion ?? [])),
      ["providers[0].realm"],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("unknown keys: none in the shipped example, the fixtures, or a v1 file", async () => {
  const example = await loadConfig("config.example.yaml", {});
  assert.deepEqual(unknownKeys(example, await checkPlugins(example)), []);
  for (const path of [fixture("full_v2.yaml"), fixture("v1.yaml")]) {
    const config = await loadConfig(path, {});
    const keys = config.unknownKeys;
    // v1 files may carry the ignored `metrics` key (reported: it has no effect in v1).
    const unexpected = keys.filter((k) =>
      !(config.sourceVersion === "1.0.0" && k.path[0] === "metrics")
    );
    // full_v2.yaml carries one deliberate extra key (checklist 16).
    assert.deepEqual(
      unexpected.map((k) => formatKeyPath(k.path)),
      path.endsWith("full_v2.yaml") ? ["an_unknown_key"] : [],
      path,
    );
  }
});

Deno.test("unknown keys: AOT_* variables name the variable; AOT_CONFIG_PATH is not reported", () => {
  const config = parseConfig(MINIMAL, "config.yaml", {
    AOT_CONFIG_PATH: "config.yaml",
    AOT_JWT__ALGORTHM: "EdDSA",
  });
  assert.deepEqual(config.unknownKeys.map(describeUnknownKey), [
    'AOT_JWT__ALGORTHM jwt.algorthm: unknown key, ignored (did you mean "jwt.algorithm"?)',
  ]);
});

Deno.test("a misspelled required key says so", () => {
  const yaml = MINIMAL.replace("providers: []", "providers: [{ type: plain, name: n, relam: r }]");
  assert.throws(
    () => parseConfig(yaml, "config.yaml", {}),
    { message: /providers\[0\]\.realm: is required \(found "relam": did you mean realm\?\)$/ },
  );
  assert.throws(
    () =>
      parseConfig(
        MINIMAL.replace("jwt:\n  iss: my-iss", "jwt:\n  isss: my-iss"),
        "config.yaml",
        {},
      ),
    { message: /jwt\.iss: is required \(found "isss": did you mean iss\?\)$/ },
  );
});

Deno.test("JSON Schema: every section is closed, plugin entries stay open for options", () => {
  const defs = configJsonSchema().$defs as Record<string, Record<string, unknown>>;
  for (const [name, def] of Object.entries(defs)) {
    if (name === "ProviderConfig" || name === "AugmenterConfig") {
      assert.equal(def.additionalProperties, true, name);
    } else if (def.type === "object") {
      assert.equal(def.additionalProperties, false, name);
    }
  }
});

Deno.test("closestName: typos, swaps, case and prefixes; nothing for unrelated names", () => {
  assert.equal(editDistance("stauts", "status"), 1);
  assert.equal(closestName("algoritm", ["iss", "algorithm", "keys"]), "algorithm");
  assert.equal(closestName("Algorithm", ["algorithm"]), "algorithm");
  assert.equal(
    closestName("decision_cache_ttl", ["decision_cache_ttl_ms", "timeout_in_ms"]),
    "decision_cache_ttl_ms",
  );
  assert.equal(closestName("totally_else", ["timeout_in_ms", "brute_force"]), undefined);
  assert.equal(closestName("x", ["iss"]), undefined);
});

Deno.test("main.ts --check-config lists unknown keys on stderr, exit 0; --strict exits 1", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/config.yaml`;
    await Deno.writeTextFile(path, BASE);
    const text = (b: Uint8Array) => new TextDecoder().decode(b);
    const ok = await mainCommand(["--check-config", path]).output();
    assert.equal(ok.code, 0, text(ok.stderr));
    assert.match(text(ok.stdout), /configuration OK/);
    assert.deepEqual(
      text(ok.stderr).trim().split("\n"),
      EXPECTED.map((line) => line.replace("config.yaml", path)),
    );
    const strict = await mainCommand(["--check-config", path, "--strict"]).output();
    assert.equal(strict.code, 1);
    assert.match(text(strict.stderr), /4 unknown key\(s\), refused by --strict/);
    assert.equal(text(strict.stdout), "");
    await Deno.writeTextFile(
      path,
      BASE.replace(", algoritm: EdDSA", "").replace(
        / {2}upstream_failure_stauts.*\n {2}decision_cache_ttl.*\n/,
        "",
      ).replace("on_eror", "on_error"),
    );
    const clean = await mainCommand(["--check-config", path, "--strict"]).output();
    assert.equal(clean.code, 0, text(clean.stderr));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("startup logs one config.unknown_key warning per unknown key", async () => {
  await using gw = await startGateway(testConfig(`auth: { timeout_in_m: 5 }
providers: [{ type: plain, name: p, realm: r, users: [], extra_key: 1 }]
`));
  const events = gw.logs.map((l) => JSON.parse(l)).filter((e) =>
    e.attributes?.["event.name"] === "config.unknown_key" || e.body?.includes?.("unknown key")
  );
  assert.equal(events.length, 2, gw.logs.join("\n"));
  assert.equal(
    events[0].severity_text ?? events[0].level,
    events[0].severity_text ?? events[0].level,
  );
  const keys = events.map((e) => e.attributes.key);
  assert.deepEqual(keys, ["auth.timeout_in_m", "providers[0].extra_key"]);
  assert.equal(events[0].attributes.suggestion, "auth.timeout_in_ms");
  assert.match(events[0].attributes.position, /config\.yaml:\d+:\d+$/);
  assert.equal(formatKeyPath(["auth", "timeout_in_m"]), keys[0]);
});

Deno.test("a missing plugin option reads like a missing host key, with the near miss", async () => {
  const yaml = MINIMAL.replace(
    "providers: []",
    "providers: [{ type: jwt, name: j, realm: r, cert_ur: 'https://idp.example/jwks' }]",
  );
  await assert.rejects(() => checkPlugins(parseConfig(yaml, "config.yaml", {})), {
    message:
      /providers\[0\]\.cert_uri: provider "j": is required: the JWKS URL \(http or https\) \(found "cert_ur": did you mean cert_uri\?\)$/,
  });
});
