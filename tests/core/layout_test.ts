/**
 * The `lib/` layout rule (README "Layout"): a folder imports only from the folders
 * before it in {@link LAYERS}, `lib/` root holds only the assembly, the server and
 * the plugin contract, and the plugin contract is the one root module any folder may import.
 */
import assert from "node:assert/strict";

/** `lib/` folders from the lowest to the highest; `""` is `lib/` root. */
const LAYERS = ["util", "config", "observability", "plugins", "jwt", "auth", "store", "http", ""];
const LIB = new URL("../../lib/", import.meta.url);
const IMPORT = /(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g;

async function* modules(dir: URL): AsyncGenerator<URL> {
  for await (const entry of Deno.readDir(dir)) {
    const url = new URL(entry.name + (entry.isDirectory ? "/" : ""), dir);
    if (entry.isDirectory) yield* modules(url);
    else if (entry.name.endsWith(".ts")) yield url;
  }
}

function folderOf(url: URL): string {
  const rel = url.pathname.slice(LIB.pathname.length);
  return rel.includes("/") ? rel.slice(0, rel.indexOf("/")) : "";
}

Deno.test("layout: lib/ root holds only gateway.ts, server.ts and plugin.ts", async () => {
  const root: string[] = [];
  for await (const entry of Deno.readDir(LIB)) {
    if (entry.isFile) root.push(entry.name);
    else assert.ok(LAYERS.includes(entry.name), `lib/${entry.name}/ is not a known folder`);
  }
  assert.deepEqual(root.sort(), ["gateway.ts", "plugin.ts", "server.ts"]);
});

Deno.test("layout: no lib/ module imports from a higher folder", async () => {
  const upward: string[] = [];
  let checked = 0;
  for await (const url of modules(LIB)) {
    const source = await Deno.readTextFile(url);
    for (const match of source.matchAll(IMPORT)) {
      const target = new URL(match[1], url);
      if (!target.pathname.startsWith(LIB.pathname)) continue;
      if (target.pathname === new URL("plugin.ts", LIB).pathname) continue;
      checked++;
      if (LAYERS.indexOf(folderOf(target)) > LAYERS.indexOf(folderOf(url))) {
        upward.push(`${url.pathname.slice(LIB.pathname.length)} -> ${match[1]}`);
      }
    }
  }
  assert.ok(checked > 100, `only ${checked} imports seen: the pattern no longer matches`);
  assert.deepEqual(upward, []);
});
