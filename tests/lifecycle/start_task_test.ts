/**
 * `deno task start` (its exact flags, read from deno.json) serves a config
 * whose Deno KV store lives outside ./data; with least-privilege flags
 * (`--allow-write=./data`, as the compiled binary uses) the same
 * config is refused with the flag to add.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url).pathname;
const decoder = new TextDecoder();

/** The start task's flags (between `deno run` and `main.ts`). */
async function startTaskFlags(): Promise<string[]> {
  const tasks = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`)).tasks;
  const argv = String(tasks.start).trim().split(/\s+/);
  assert.deepEqual(argv.slice(0, 2), ["deno", "run"]);
  return argv.slice(2, argv.indexOf("main.ts"));
}

function config(storePath: string): string {
  return `version: "2.0.0"
server: { host: 127.0.0.1, port: 0 }
metrics: { enabled: false }
store: { enabled: true, path: ${storePath} }
providers: []
jwt: { iss: i, exp: 60, secret: a-secret-that-is-long-enough-for-hs256 }
logging: { level: info, format: json }
`;
}

function command(flags: string[], configPath: string): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", ...flags, "main.ts"],
    env: { NO_COLOR: "1", AOT_CONFIG_PATH: configPath },
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}

Deno.test("deno task start serves a Deno KV store at an absolute path outside ./data (issue 17)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "aot-start-" });
  try {
    const storePath = `${dir}/var/lib/authotron/tokens.kv`;
    await Deno.writeTextFile(`${dir}/config.yaml`, config(storePath));
    const child = command(await startTaskFlags(), `${dir}/config.yaml`).spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let output = "";
    while (!output.includes("startup.server.listening")) {
      const { value, done } = await reader.read();
      if (done) break;
      output += value;
    }
    child.kill("SIGTERM");
    while (!(await reader.read()).done) { /* drain */ }
    const stderr = decoder.decode(await new Response(child.stderr).arrayBuffer());
    assert.equal((await child.status).code, 0, stderr);
    assert.match(output, /startup\.store\.ready/, stderr);
    assert.ok((await Deno.stat(storePath)).isFile, "the KV file was created there");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("least-privilege flags (--allow-write=./data) refuse a store elsewhere, naming the flag to add", async () => {
  const dir = await Deno.makeTempDir({ prefix: "aot-start-" });
  try {
    const storeDir = `${dir}/state`;
    await Deno.writeTextFile(`${dir}/config.yaml`, config(`${storeDir}/tokens.kv`));
    const flags = ["--allow-net", "--allow-env", "--allow-read", "--allow-write=./data"];
    const out = await command(flags, `${dir}/config.yaml`).output();
    const stderr = decoder.decode(out.stderr) + decoder.decode(out.stdout);
    assert.equal(out.code, 1, stderr);
    assert.ok(stderr.includes(`store.path ${storeDir}/tokens.kv`), stderr);
    assert.ok(stderr.includes(`--allow-write=${storeDir}`), stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
