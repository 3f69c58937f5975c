/**
 * docs/plugins.md cannot drift from the package: its context reference is the
 * code's own declaration of `PluginContext` and `CallContext`, and its
 * provider and augmenter examples type-check against `@authotron/plugin`.
 */

import assert from "node:assert/strict";
import { removeDir, tempDir } from "../support/system.ts";

const ROOT = new URL("../../", import.meta.url);
const DOC = await Deno.readTextFile(new URL("docs/plugins.md", ROOT));
const CONTRACT = await Deno.readTextFile(new URL("packages/plugin/mod.ts", ROOT));

/** The doc comment and declaration of `export interface <name>` in the contract. */
function declaration(name: string): string {
  const start = CONTRACT.indexOf(`export interface ${name} {`);
  assert.ok(start > 0, `${name} is declared in packages/plugin/mod.ts`);
  const docStart = CONTRACT.lastIndexOf("/**", start);
  const end = CONTRACT.indexOf("\n}\n", start);
  return CONTRACT.slice(docStart, end + 2);
}

Deno.test("docs/plugins.md: the context reference is PluginContext and CallContext as declared", () => {
  const match = DOC.match(
    /<!-- context:begin[^>]*-->\s*```ts\n([\s\S]*?)```\s*<!-- context:end -->/,
  );
  assert.ok(match, "docs/plugins.md has the context:begin/end block");
  const expected = `${declaration("PluginContext")}\n\n${declaration("CallContext")}\n`;
  assert.equal(
    match[1],
    expected,
    "copy PluginContext and CallContext from packages/plugin/mod.ts into docs/plugins.md",
  );
  const members = [...declaration("PluginContext").matchAll(/^ {2}(?:readonly )?(\w+)[?<(:]/gm)]
    .map((m) => m[1]);
  assert.deepEqual(members, [
    "name",
    "realm",
    "type",
    "configUrl",
    "log",
    "http",
    "createCache",
    "credentialKey",
  ]);
});

Deno.test("docs/plugins.md: every example importing only @authotron/plugin type-checks", async () => {
  const blocks = [...DOC.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1])
    .filter((code) => /from "@authotron\/plugin";/.test(code) && !/from "\.\//.test(code));
  assert.ok(blocks.length >= 3, `only ${blocks.length} examples found`);
  const dir = await tempDir("plugin-docs");
  try {
    const files = await Promise.all(blocks.map(async (code, i) => {
      const file = `${dir}/example_${i}.ts`;
      await Deno.writeTextFile(file, code);
      return file;
    }));
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["check", "--quiet", "--config", new URL("deno.json", ROOT).pathname, ...files],
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
  } finally {
    await removeDir(dir);
  }
});
