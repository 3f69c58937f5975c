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
  assert.equal(check.pathArgument, "c.yaml");
  assert.equal(check.strict, true);
  assert.deepEqual(check.ignored, ["--nope"]);
  const serve = parseCommandLine(["--default-config", "d.yaml", "--watch-config"]);
  assert.equal(serve.mode, "serve");
  assert.equal(serve.defaultConfig, "d.yaml");
  assert.equal(serve.watchConfig, true);
  assert.equal(serve.pathArgument, undefined);
});

Deno.test("main.ts stops with exit 1 naming the plugin whose create() never finishes", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const plugin = new URL("../fixtures/plugins/create_hangs.ts", import.meta.url).pathname;
    await Deno.writeTextFile(
      `${dir}/config.yaml`,
      `version: "2.0.0"
server: { host: 127.0.0.1, port: 0 }
metrics: { enabled: false }
store: { enabled: false }
services: []
auth: { plugin_create_timeout_ms: 300 }
providers:
  - { module: "${plugin}", name: stuck, realm: r }
jwt: { iss: i, exp: 60, secret: test-secret-that-is-long-enough-32b }
logging: { level: info, format: json }
`,
    );
    const out = await mainCommand([], { AOT_CONFIG_PATH: `${dir}/config.yaml` }).output();
    assert.equal(out.code, 1);
    assert.match(
      text(out.stderr),
      /^Error loading configuration: .*config\.yaml:8:5 providers\[0\]: provider "stuck": create\(\) did not finish within 300 ms/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
