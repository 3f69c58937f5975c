import assert from "node:assert/strict";
import { configJsonSchema } from "../../lib/config/load.ts";

type Schema = Record<string, unknown>;

function defs(schema: Schema): Record<string, Schema> {
  return schema.$defs as Record<string, Schema>;
}

function refs(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => refs(v, out));
  else if (typeof value === "object" && value !== null) {
    for (const [key, v] of Object.entries(value)) {
      if (key === "$ref") out.push(v as string);
      else refs(v, out);
    }
  }
  return out;
}

Deno.test("configJsonSchema() is valid JSON, draft 2020-12, titled Config", () => {
  const schema = configJsonSchema();
  const text = JSON.stringify(schema, null, 2);
  assert.deepEqual(JSON.parse(text), schema);
  assert.equal(schema.$schema, "https://json-schema.org/draft/2020-12/schema");
  assert.equal(schema.title, "Config");
  assert.deepEqual(schema.oneOf, [
    { $ref: "#/$defs/ConfigV1" },
    { $ref: "#/$defs/ConfigV2" },
  ]);
});

Deno.test("configJsonSchema() every $ref resolves to a $defs entry", () => {
  const schema = configJsonSchema();
  const names = new Set(Object.keys(defs(schema)));
  const all = refs(schema);
  assert.ok(all.length > 10);
  for (const ref of all) {
    assert.ok(ref.startsWith("#/$defs/"), ref);
    assert.ok(names.has(ref.slice("#/$defs/".length)), ref);
  }
});

Deno.test("configJsonSchema() required keys match spec 2.2 and 2.3, except store and services", () => {
  const d = defs(configJsonSchema());
  const common = ["providers", "jwt", "logging"];
  assert.deepEqual(
    new Set(d.ConfigV2.required as string[]),
    new Set(["version", "server", ...common]),
  );
  assert.deepEqual(
    new Set(d.ConfigV1.required as string[]),
    new Set(["version", "bind_address", ...common]),
  );
  assert.deepEqual((d.ConfigV2.properties as Schema).version, { const: "2.0.0" });
  assert.deepEqual((d.ConfigV1.properties as Schema).version, { const: "1.0.0" });
  assert.deepEqual(d.ServerConfig.required, ["port"]);
  // `secret` is required by the reader only when jwt.algorithm is HS256 (the default).
  assert.deepEqual(d.JWTConfig.required, ["iss", "exp"]);
  assert.deepEqual(d.LoggingConfig.required, ["level", "format"]);
  assert.deepEqual(d.StoreConfig.required, ["enabled"]);
});

Deno.test("configJsonSchema() plugin entries document host keys and allow options", () => {
  const d = defs(configJsonSchema());
  for (const name of ["ProviderConfig", "AugmenterConfig"]) {
    const entry = d[name];
    assert.equal(entry.additionalProperties, true);
    assert.deepEqual(entry.required, ["name", "realm"]);
    assert.deepEqual(entry.oneOf, [{ required: ["type"] }, { required: ["module"] }]);
  }
  assert.ok("on_error" in (d.AugmenterConfig.properties as Schema));
  assert.ok(!("on_error" in (d.ProviderConfig.properties as Schema)));
});

Deno.test("configJsonSchema() returns a fresh copy each time", () => {
  const a = configJsonSchema();
  (a as Schema).title = "changed";
  assert.equal(configJsonSchema().title, "Config");
});
