import assert from "node:assert/strict";
import { loadConfig, parseConfig } from "../../lib/config/load.ts";
import { configError, configErrorAsync, edit, fixture, MINIMAL } from "./helpers.ts";

const parse = (text: string) => parseConfig(text, "config.yaml", {});

Deno.test("loadConfig() an alias bomb fails fast with a clear error", async () => {
  const started = performance.now();
  const error = await configErrorAsync(
    () => loadConfig(fixture("alias_bomb.yaml"), {}),
    "ERR_CONFIG_SYNTAX",
  );
  const elapsed = performance.now() - started;
  assert.match(error.message, /alias_bomb\.yaml YAML aliases expand too much/);
  // Expanding it would take minutes and gigabytes; refusing takes milliseconds.
  // The bound is generous because the machine is shared.
  assert.ok(elapsed < 5000, `took ${elapsed} ms`);
});

Deno.test("parseConfig() a few aliases are fine", () => {
  const config = parse(
    edit("  iss: my-iss", "  iss: &issuer my-iss") +
      "x_list: &list [a]\nx_copy: *issuer\nx_again: *list\n",
  );
  assert.equal(config.jwt.iss, "my-iss");
});

Deno.test("loadConfig() __proto__ deep inside a plugin entry is refused with its position", async () => {
  const file = fixture("proto_pollution.yaml");
  const error = await configErrorAsync(() => loadConfig(file, {}));
  assert.equal(
    error.message,
    `${file}:12:9 providers[0].users[0].__proto__: the keys __proto__, constructor and prototype are not allowed in a config`,
  );
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

Deno.test("parseConfig() constructor and prototype keys are refused at any depth", () => {
  const cases: [string, string][] = [
    ["constructor: {prototype: {admin: true}}\n", "constructor"],
    ["server_extra: {prototype: 1}\n", "server_extra.prototype"],
    ['"__proto__": {admin: true}\n', "__proto__"],
    ["list: [{a: [{__proto__: 1}]}]\n", "list[0].a[0].__proto__"],
  ];
  for (const [extra, key] of cases) {
    const error = configError(() => parse(MINIMAL + extra));
    assert.ok(
      error.message.startsWith(`config.yaml:15:`) &&
        error.message.includes(` ${key}: the keys __proto__`),
      error.message,
    );
  }
  const probe = {} as Record<string, unknown>;
  assert.equal(probe.admin, undefined);
});

Deno.test("parseConfig() YAML errors are ERR_CONFIG_SYNTAX with line and column", () => {
  const cases: [string, RegExp][] = [
    [MINIMAL + "jwt: {}\n", /^config\.yaml:15:1 YAML syntax error: Map keys must be unique/],
    [MINIMAL + "a: 'open\n", /^config\.yaml:16:1 YAML syntax error: Missing closing 'quote/],
    [
      MINIMAL + "---\nb: 1\n",
      /^config\.yaml:15:1 YAML syntax error: Source contains multiple documents/,
    ],
    [
      "a: " + "[".repeat(5000) + "]".repeat(5000),
      /^config\.yaml:1:\d+ YAML syntax error: Maximum call stack/,
    ],
  ];
  for (const [text, pattern] of cases) {
    assert.match(configError(() => parse(text), "ERR_CONFIG_SYNTAX").message, pattern);
  }
});

Deno.test("parseConfig() a syntax error message does not echo the source line", () => {
  const error = configError(
    () => parse(edit("  secret: s3cr3t", '  secret: "hunter2-secret')),
    "ERR_CONFIG_SYNTAX",
  );
  assert.doesNotMatch(error.message, /hunter2/);
  assert.doesNotMatch(error.message, /\n/);
});

Deno.test("parseConfig() the top level must be a mapping; an empty file lacks version", () => {
  const list = configError(() => parse("- a\n- b\n"), "ERR_CONFIG_SYNTAX");
  assert.equal(
    list.message,
    "config.yaml:1:1 the top level of a config file must be a mapping of keys to values",
  );
  assert.equal(
    configError(() => parse("")).message,
    'config.yaml version: is required (expected "1.0.0" or "2.0.0")',
  );
  assert.match(configError(() => parse("# only a comment\n")).message, /version: is required/);
});
