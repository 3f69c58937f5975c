import assert from "node:assert/strict";
import { mainCommand } from "./main_process.ts";
import { parseCommandLine } from "../../lib/config/cli.ts";
import { VERSION } from "../../lib/config/types.ts";

const NO_CONFIG = { AOT_CONFIG_PATH: "/nonexistent/config.yaml" };
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

Deno.test("main.ts --help and -h print usage and exit 0 without a config", async () => {
  for (const flag of ["--help", "-h"]) {
    const out = await mainCommand([flag], NO_CONFIG).output();
    assert.equal(out.code, 0, text(out.stderr));
    assert.match(text(out.stdout), /^Usage: main\.ts \[options\]/);
    assert.match(text(out.stdout), /--check-config/);
    assert.equal(text(out.stderr), "");
  }
});

Deno.test("main.ts --version prints one line 'authotron <version>' and exits 0", async () => {
  const out = await mainCommand(["--version"], NO_CONFIG).output();
  assert.equal(out.code, 0);
  assert.equal(text(out.stdout), `authotron ${VERSION}\n`);
});

Deno.test("deno task start --help reaches main.ts's help", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "start", "--help"],
    cwd: new URL("../../", import.meta.url).pathname,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, text(out.stderr));
  assert.match(text(out.stdout), /^Usage: main\.ts/);
});

Deno.test("parseCommandLine: modes, paths and ignored options", () => {
  assert.equal(parseCommandLine(["--unknown", "--schema", "--help"]).mode, "schema");
  assert.equal(parseCommandLine(["--version", "-h"]).mode, "help");
  const check = parseCommandLine(["--check-config", "c.yaml", "--strict", "--nope"]);
  assert.equal(check.mode, "check-config");
  assert.equal(check.checkPath, "c.yaml");
  assert.equal(check.strict, true);
  assert.deepEqual(check.ignored, ["--nope"]);
  const serve = parseCommandLine(["--default-config", "d.yaml", "--watch-config"]);
  assert.equal(serve.mode, "serve");
  assert.equal(serve.defaultConfig, "d.yaml");
  assert.equal(serve.watchConfig, true);
  assert.equal(serve.checkPath, undefined);
});
