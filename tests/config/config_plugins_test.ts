import assert from "node:assert/strict";
import { parseConfig } from "../../lib/config/load.ts";
import { configError, edit } from "./helpers.ts";

const withProviders = (yaml: string) =>
  parseConfig(edit("providers: []", `providers:\n${yaml}`), "config.yaml", {});
const withAugmenters = (yaml: string) =>
  parseConfig(
    edit("providers: []", `providers: []\naugmenters:\n${yaml}`),
    "config.yaml",
    {},
  );

Deno.test("parseConfig() plugin entries split host keys from options", () => {
  const config = withProviders(
    "  - {type: jwt, name: a, realm: r, cert_uri: http://x, iam_realm: k}\n",
  );
  const [entry] = config.providers;
  assert.deepEqual(entry, {
    kind: "provider",
    index: 0,
    path: ["providers", 0],
    name: "a",
    id: "a",
    realm: "r",
    type: "jwt",
    onError: "skip",
    upstreamLimits: { maxConcurrent: 64, maxPerSecond: 200 },
    options: { cert_uri: "http://x", iam_realm: "k" },
  });
  assert.equal(Object.getPrototypeOf(entry.options), Object.prototype);
});

Deno.test("parseConfig() upstream_max_concurrent and upstream_max_per_second are provider host keys (#22 F6)", () => {
  const config = withProviders(
    "  - {type: ecmwf-api, name: a, realm: r, uri: http://x, upstream_max_concurrent: 4, upstream_max_per_second: 0}\n",
  );
  const [entry] = config.providers;
  assert.deepEqual(entry.upstreamLimits, { maxConcurrent: 4, maxPerSecond: 0 });
  assert.deepEqual(entry.options, { uri: "http://x" }, "not passed to the plugin");
  assert.equal(
    configError(() =>
      withProviders("  - {type: ecmwf-api, name: a, realm: r, upstream_max_per_second: -1}\n")
    ).message,
    "config.yaml:8:67 providers[0].upstream_max_per_second: expected an integer between 0 and 1000000, got -1",
  );
  // Augmenters have no such keys: they stay options of the augmenter.
  const augmented = withAugmenters(
    "  - {type: plain, name: g, realm: r, upstream_max_concurrent: 1}\n",
  );
  assert.deepEqual(augmented.augmenters[0].upstreamLimits, { maxConcurrent: 0, maxPerSecond: 0 });
  assert.equal(augmented.augmenters[0].options.upstream_max_concurrent, 1);
});

Deno.test("parseConfig() type names are not checked here (the plugin loader does)", () => {
  const config = withProviders("  - {type: no-such-type, name: a, realm: r}\n");
  assert.equal(config.providers[0].type, "no-such-type");
});

Deno.test("parseConfig() a plugin entry needs name, realm and exactly one of type or module", () => {
  const cases: [string, string][] = [
    ["  - {type: plain, realm: r}", "config.yaml:8:5 providers[0].name: is required"],
    [
      "  - {type: plain, name: '', realm: r}",
      "config.yaml:8:25 providers[0].name: must not be empty",
    ],
    [
      "  - {type: plain, name: 5, realm: r}",
      "config.yaml:8:25 providers[0].name: expected a string, got 5",
    ],
    ["  - {type: plain, name: a}", "config.yaml:8:5 providers[0].realm: is required"],
    [
      "  - {name: a, realm: r}",
      "config.yaml:8:5 providers[0]: needs either `type` (a built-in plugin) or `module` (a plugin module path or URL)",
    ],
    [
      "  - {name: a, realm: r, type: plain, module: ./x.ts}",
      "config.yaml:8:46 providers[0].module: give either `type` or `module`, not both",
    ],
    [
      "  - {name: a, realm: r, type: [plain]}",
      "config.yaml:8:31 providers[0].type: expected a string, got a list",
    ],
    ["  - plain", 'config.yaml:8:5 providers[0]: expected a mapping, got "plain"'],
  ];
  for (const [yaml, message] of cases) {
    assert.equal(configError(() => withProviders(yaml + "\n")).message, message);
  }
  const list = configError(() => withProviders("    type: plain\n"));
  assert.match(list.message, /^config\.yaml:8:5 providers: expected a list, got a mapping$/);
});

Deno.test("parseConfig() one name in two realms is accepted as name@realm; the same name and realm is refused", () => {
  const shared = withProviders(
    "  - {type: plain, name: a, realm: r}\n  - {type: plain, name: b, realm: r}\n  - {type: jwt, name: a, realm: s}\n",
  );
  assert.deepEqual(shared.providers.map((p) => p.id), ["a@r", "b", "a@s"]);
  assert.deepEqual(shared.providers.map((p) => p.name), ["a", "b", "a"]);
  const error = configError(() =>
    withProviders(
      "  - {type: plain, name: a, realm: r}\n  - {type: plain, name: b, realm: r}\n  - {type: jwt, name: a, realm: R}\n",
    )
  );
  assert.equal(
    error.message,
    'config.yaml:10:23 providers[2].name: duplicate provider name "a" in realm "R": providers[0] and providers[2] must differ in name or realm',
  );
  assert.deepEqual(error.keyPath, ["providers", 2, "name"]);
  const aug = configError(() =>
    withAugmenters(
      "  - {type: plain, name: x, realm: r}\n  - {type: plain, name: x, realm: r}\n",
    )
  );
  assert.match(
    aug.message,
    /augmenters\[1\]\.name: duplicate augmenter name "x" in realm "r": augmenters\[0\] and augmenters\[1\]/,
  );
  const clash = configError(() =>
    withProviders(
      "  - {type: plain, name: a, realm: b@c}\n  - {type: plain, name: a@b, realm: c}\n" +
        "  - {type: plain, name: a, realm: d}\n  - {type: plain, name: a@b, realm: e}\n",
    )
  );
  assert.match(
    clash.message,
    /providers\[1\]\.name: provider id "a@b@c" of providers\[1\] is also the id of providers\[0\]/,
  );
  // The same name in both lists is fine.
  const both = parseConfig(
    edit(
      "providers: []",
      "providers: [{type: plain, name: x, realm: r}]\naugmenters: [{type: plain, name: x, realm: r}]",
    ),
    "config.yaml",
    {},
  );
  assert.equal(both.augmenters[0].name, both.providers[0].name);
  assert.equal(both.providers[0].id, "x");
});

Deno.test("parseConfig() augmenter on_error is skip or fail, default skip", () => {
  const config = withAugmenters(
    "  - {type: ldap, name: a, realm: r}\n  - {module: ./m.ts, name: b, realm: r, on_error: fail}\n",
  );
  assert.deepEqual(config.augmenters.map((a) => a.onError), ["skip", "fail"]);
  assert.deepEqual(config.augmenters[1].options, {});
  assert.equal(config.augmenters[1].module, "./m.ts");
  const error = configError(() =>
    withAugmenters("  - {type: ldap, name: a, realm: r, on_error: retry}\n")
  );
  assert.match(error.message, /augmenters\[0\]\.on_error: expected one of skip, fail, got "retry"/);
  assert.deepEqual(withAugmenters("  []\n").augmenters, []);
  assert.deepEqual(
    parseConfig(edit("providers: []", "providers: []\naugmenters:"), "c.yaml", {}).augmenters,
    [],
  );
});
