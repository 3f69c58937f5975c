/**
 * `deno task compile` → one executable with every built-in plugin embedded.
 * `deno compile` joins the code to Deno's runtime-only binary, denort, of the
 * same Deno version: `DENORT_BIN` when set, else the copy in DENO_DIR, else
 * one downloaded from dl.deno.land. The binary is built when this file loads;
 * when denort can be neither found nor downloaded the test is skipped with
 * what to set (also under CI=true: a missing download, not a missing
 * package). Any other build failure fails the test.
 */
import assert from "node:assert/strict";
import { freePort } from "../support/system.ts";
import {
  assertBothProvidersAuthenticate,
  whileServing,
  writeGatewaySetup,
} from "./served_gateway.ts";

const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
const NAME = "deno task compile builds a binary that serves built-in and third-party plugins";
const DENORT = Deno.env.get("DENORT_BIN");

/** The compile task's argv (after `deno`), with the output redirected to `output`. */
async function compileArgs(output: string): Promise<string[]> {
  const tasks = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`)).tasks;
  const argv = String(tasks.compile).trim().split(/\s+/);
  assert.equal(argv[0], "deno");
  assert.ok(argv.includes("dist/authotron"), argv.join(" "));
  for (const dir of ["providers/", "augmenters/", "assets/"]) {
    assert.ok(argv.join(" ").includes(`--include ${dir}`), `embeds ${dir}`);
  }
  return argv.slice(1).map((arg) => arg === "dist/authotron" ? output : arg);
}

/** How the build went: the binary, or why denort was unavailable, or the failure. */
type Build =
  | { binary: string }
  | { noRuntime: string }
  | { failed: string };

/** Runs the compile task into `dir` with the caller's DENORT_BIN (or none). */
async function build(dir: string): Promise<Build> {
  const binary = `${dir}/authotron`;
  const env: Record<string, string> = {};
  if (DENORT) env.DENORT_BIN = DENORT;
  const built = await new Deno.Command(Deno.execPath(), {
    args: await compileArgs(binary),
    cwd: ROOT,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(built.stderr);
  if (built.success) return { binary };
  const download = stderr.match(
    /error sending request for url \((https:\/\/dl\.deno\.land\/[^)]+)\)/,
  );
  if (!DENORT && download) return { noRuntime: download[1]! };
  return { failed: stderr };
}

async function serve(dir: string, binary: string): Promise<void> {
  const port = freePort();
  await writeGatewaySetup(
    dir,
    port,
    "compile",
    "augmenters:\n  - { type: plain, name: admins, realm: demo, roles: { admin: [alice] } }\n",
  );
  const command = new Deno.Command(binary, {
    cwd: dir,
    env: { AOT_CONFIG_PATH: `${dir}/config.yaml` },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
  const output = await whileServing(command, port, binary, async () => {
    await assertBothProvidersAuthenticate(port);
    const page = await fetch(`http://127.0.0.1:${port}/`);
    assert.match(await page.text(), /<html/i, "embedded assets are served");
  });
  assert.equal(output.code, 0);
}

const DIR = await Deno.makeTempDir({ prefix: "authotron-compile-" });
const BUILD = await build(DIR);

if ("noRuntime" in BUILD) {
  await Deno.remove(DIR, { recursive: true });
  Deno.stderr.writeSync(
    new TextEncoder().encode(
      `SKIPPED compile test: deno compile needs denort ${Deno.version.deno} and could not ` +
        `download ${BUILD.noRuntime}; set DENORT_BIN to that denort binary (unzipped) or run ` +
        "with network access (docs/deployment.md, Single binary)\n",
    ),
  );
  Deno.test({ name: NAME, ignore: true, fn() {} });
} else {
  Deno.test(NAME, async () => {
    try {
      if ("failed" in BUILD) assert.fail(`deno task compile failed:\n${BUILD.failed}`);
      await serve(DIR, BUILD.binary);
    } finally {
      await Deno.remove(DIR, { recursive: true });
    }
  });
}
