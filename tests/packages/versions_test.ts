/**
 * The workspace packages: every `packages/*` is a workspace member, versioned
 * with the gateway's VERSION (lib/config/types.ts, the one source), licensed
 * Apache-2.0 like the root LICENSE, and publishable as-is to JSR.
 */

import assert from "node:assert/strict";
import { VERSION } from "../../lib/config/types.ts";

const ROOT = new URL("../../", import.meta.url);

async function packageDirs(): Promise<string[]> {
  const dirs: string[] = [];
  for await (const entry of Deno.readDir(new URL("packages/", ROOT))) {
    if (entry.isDirectory) dirs.push(`packages/${entry.name}`);
  }
  return dirs.sort();
}

Deno.test("packages: each is a workspace member with the gateway's VERSION, Apache-2.0 and exports", async () => {
  const root = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  const dirs = await packageDirs();
  assert.deepEqual([...root.workspace].sort(), dirs);
  for (const dir of dirs) {
    const manifest = JSON.parse(await Deno.readTextFile(new URL(`${dir}/deno.json`, ROOT)));
    assert.match(manifest.name, /^@authotron\//, dir);
    assert.equal(manifest.version, VERSION, `${dir}/deno.json version`);
    assert.equal(manifest.license, "Apache-2.0", dir);
    assert.ok(Object.keys(manifest.exports).includes("."), dir);
  }
});

Deno.test("packages: deno publish --dry-run passes with no warnings and doc lint is clean", async () => {
  for (const dir of await packageDirs()) {
    const cwd = new URL(dir, ROOT).pathname;
    const publish = await new Deno.Command(Deno.execPath(), {
      args: ["publish", "--dry-run", "--allow-dirty"],
      cwd,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(publish.stdout) +
      new TextDecoder().decode(publish.stderr);
    assert.ok(publish.success, text);
    assert.ok(!/warning/i.test(text), `${dir}: ${text}`);
    const manifest = JSON.parse(await Deno.readTextFile(`${cwd}/deno.json`));
    const entrypoints = Object.values(manifest.exports as Record<string, string>);
    const doc = await new Deno.Command(Deno.execPath(), {
      args: ["doc", "--lint", ...entrypoints],
      cwd,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(doc.success, `${dir}: ${new TextDecoder().decode(doc.stderr)}`);
  }
});

Deno.test("packages: each imports only its own files, node: built-ins and its own deno.json imports", async () => {
  // Static imports and re-exports at the start of a line (doc-comment examples are not code).
  const IMPORT = /^(?:import|export)\b[^;]*?from\s*"([^"]+)"/gm;
  for (const dir of await packageDirs()) {
    const base = new URL(`${dir}/`, ROOT);
    const manifest = JSON.parse(await Deno.readTextFile(new URL("deno.json", base)));
    const allowed = Object.keys(manifest.imports ?? {});
    let checked = 0;
    for await (const file of walkTs(base)) {
      const source = await Deno.readTextFile(file);
      for (const [, specifier] of source.matchAll(IMPORT)) {
        checked++;
        if (specifier.startsWith(".")) {
          const target = new URL(specifier, file);
          assert.ok(target.href.startsWith(base.href), `${file.pathname} imports ${specifier}`);
        } else {
          assert.ok(
            specifier.startsWith("node:") || allowed.includes(specifier),
            `${file.pathname} imports ${specifier}, which ${dir}/deno.json does not map`,
          );
        }
      }
    }
    assert.ok(checked > 0, `${dir}: no imports seen`);
  }
});

async function* walkTs(dir: URL): AsyncGenerator<URL> {
  for await (const entry of Deno.readDir(dir)) {
    const url = new URL(entry.name + (entry.isDirectory ? "/" : ""), dir);
    if (entry.isDirectory) yield* walkTs(url);
    else if (entry.name.endsWith(".ts")) yield url;
  }
}
