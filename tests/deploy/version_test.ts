/**
 * One version: VERSION in lib/config/types.ts is what /status, build_info,
 * the logs and the landing page report; the changelog's newest release, the
 * deploy manifests' image tags and the versions quoted in the docs must say
 * the same (the packages' own manifests are checked by their tests).
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

Deno.test("README, docs and deploy/ quote the gateway's version only as VERSION", async () => {
  const files = [
    "README.md",
    ...[...Deno.readDirSync(`${ROOT}/docs`)].map((e) => `docs/${e.name}`),
    "deploy/compose.yaml",
    "deploy/kubernetes/kustomization.yaml",
  ].filter((file) => file.endsWith(".md") || file.endsWith(".yaml"));
  const quoted = new RegExp(
    [
      /authotron[:-](\d+\.\d+\.\d+)/.source, // image tags, release directories
      /newTag: "(\d+\.\d+\.\d+)"/.source, // kustomization
      /"(?:service\.)?version": "(\d+\.\d+\.\d+)"/.source, // /status and log examples
      /@authotron\/[a-z]+@\^?(\d+\.\d+\.\d+)/.source, // package specifiers
    ].join("|"),
    "g",
  );
  let seen = 0;
  for (const file of files) {
    const text = await Deno.readTextFile(`${ROOT}/${file}`);
    for (const match of text.matchAll(quoted)) {
      seen++;
      const version = match.slice(1).find((group) => group !== undefined);
      assert.equal(version, VERSION, `${file}: ${match[0]}`);
    }
  }
  assert.ok(seen >= 4, `found the image tags and /status examples (${seen})`);
});
