/**
 * Builds the npm package of `@authotron/client` (for Node 20+ and Bun) from
 * `packages/client/mod.ts`: one ES module bundled by `deno bundle` with `jose`
 * left as a dependency, its `.d.ts`, a `package.json` and the LICENSE.
 *
 * ```sh
 * npx -y deno@2.9.6 task build-client-npm [out-dir]   # default dist/npm/client
 * cd dist/npm/client && npm publish
 * ```
 *
 * @module
 */

const ROOT = new URL("../", import.meta.url);
const PACKAGE = new URL("packages/client/", ROOT);

/** Builds the package into `outDir` and returns its `package.json` object. */
export async function buildClientNpm(outDir: string): Promise<Record<string, unknown>> {
  const manifest = JSON.parse(await Deno.readTextFile(new URL("deno.json", PACKAGE)));
  const jose = String(manifest.imports.jose).replace(/^npm:jose@/, "");
  await Deno.mkdir(outDir, { recursive: true });
  const bundled = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--platform=browser",
      "--format=esm",
      "--external=jose",
      "--declaration",
      `--output=${outDir}/index.js`,
      new URL("mod.ts", PACKAGE).pathname,
    ],
    cwd: ROOT.pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!bundled.success) {
    throw new Error(`deno bundle failed:\n${new TextDecoder().decode(bundled.stderr)}`);
  }
  const npmManifest = {
    name: manifest.name,
    version: manifest.version,
    description: "Verify Auth-O-Tron tokens and call its /authenticate from a backend",
    license: manifest.license,
    type: "module",
    exports: { ".": { types: "./index.d.ts", default: "./index.js" } },
    files: ["index.js", "index.d.ts", "LICENSE"],
    engines: { node: ">=20" },
    dependencies: { jose },
  };
  await Deno.writeTextFile(`${outDir}/package.json`, JSON.stringify(npmManifest, null, 2) + "\n");
  await Deno.copyFile(new URL("LICENSE", ROOT), `${outDir}/LICENSE`);
  return npmManifest;
}

if (import.meta.main) {
  const outDir = Deno.args[0] ?? "dist/npm/client";
  await buildClientNpm(outDir);
  // deno-lint-ignore no-console -- command-line tool output
  console.log(`built ${outDir}`);
}
