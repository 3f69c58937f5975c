/**
 * One version: VERSION in lib/config/types.ts is what /status, build_info,
 * the logs and the landing page report; the changelog's newest release, the
 * packages and the deploy manifests' image tags must say the same.
 */
import assert from "node:assert/strict";
import { VERSION } from "../../lib/config/types.ts";
import { ROOT } from "../support/dockerfile.ts";

Deno.test("CHANGELOG.md's newest release heading is VERSION", async () => {
  let changelog: string;
  try {
    changelog = await Deno.readTextFile(`${ROOT}/CHANGELOG.md`);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    assert.fail(
      `CHANGELOG.md is missing: it must start with a "## [${VERSION}] - YYYY-MM-DD" release`,
    );
  }
  const release = changelog.match(/^## \[(\d+\.\d+\.\d+)\]/m);
  assert.ok(release, 'CHANGELOG.md has no release heading such as "## [1.2.3] - 2026-01-31"');
  assert.equal(
    release[1],
    VERSION,
    "the newest release in CHANGELOG.md is lib/config/types.ts VERSION",
  );
});

Deno.test("every packages/*/deno.json carries VERSION", async () => {
  let entries: Deno.DirEntry[] = [];
  try {
    entries = [...Deno.readDirSync(`${ROOT}/packages`)].filter((e) => e.isDirectory);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  for (const entry of entries) {
    const path = `${ROOT}/packages/${entry.name}/deno.json`;
    const manifest = JSON.parse(await Deno.readTextFile(path));
    assert.equal(manifest.version, VERSION, `packages/${entry.name}/deno.json`);
  }
});

Deno.test("README, docs and deploy/ quote the gateway's version only as VERSION", async () => {
  const files = [
    "README.md",
    ...[...Deno.readDirSync(`${ROOT}/docs`)].map((e) => `docs/${e.name}`),
    "deploy/compose.yaml",
    "deploy/kubernetes/kustomization.yaml",
  ].filter((file) => file.endsWith(".md") || file.endsWith(".yaml"));
  const quoted =
    /authotron[:-](\d+\.\d+\.\d+)|newTag: "(\d+\.\d+\.\d+)"|"(?:service\.)?version": "(\d+\.\d+\.\d+)"/g;
  let seen = 0;
  for (const file of files) {
    const text = await Deno.readTextFile(`${ROOT}/${file}`);
    for (const match of text.matchAll(quoted)) {
      seen++;
      const version = match[1] ?? match[2] ?? match[3];
      assert.equal(version, VERSION, `${file}: ${match[0]}`);
    }
  }
  assert.ok(seen >= 4, `found the image tags and /status examples (${seen})`);
});
