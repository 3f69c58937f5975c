import assert from "node:assert/strict";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const ROOT = new URL("../../", import.meta.url).pathname;

function deno(args: string[], env: Record<string, string> = {}) {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-env", "--allow-read", "--allow-write", MAIN, ...args],
    env: { NO_COLOR: "1", ...env },
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  });
}

async function writeConfig(text: string): Promise<string> {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/config.yaml`, text);
  return `${dir}/config.yaml`;
}

const BASE = `version: "2.0.0"
server: { host: 127.0.0.1, port: 0 }
metrics: { enabled: false }
store: { enabled: false }
services: []
providers: []
jwt: { iss: i, exp: 60, secret: s }
logging: { level: info, format: json }
`;

Deno.test("main.ts --schema prints a JSON schema without any config", async () => {
  const out = await deno(["--schema"], { AOT_CONFIG_PATH: "/nonexistent.yaml" }).output();
  assert.equal(out.code, 0);
  const schema = JSON.parse(new TextDecoder().decode(out.stdout));
  assert.equal(schema.title, "Config");
});

Deno.test("main.ts refuses a bad config with exit 1 and a message naming file and key", async () => {
  const path = await writeConfig(BASE.replace("port: 0", 'port: "abc"'));
  const out = await deno([], { AOT_CONFIG_PATH: path }).output();
  assert.equal(out.code, 1);
  const stderr = new TextDecoder().decode(out.stderr);
  assert.match(stderr, /^Error loading configuration: .*config\.yaml:2:\d+ server\.port/);
});

Deno.test("main.ts --check-config validates without serving", async () => {
  const good = await writeConfig(BASE);
  const ok = await deno(["--check-config", good]).output();
  assert.equal(ok.code, 0, new TextDecoder().decode(ok.stderr));
  assert.match(new TextDecoder().decode(ok.stdout), /configuration OK/);
  const bad = await writeConfig(
    BASE.replace("providers: []", "providers: [{ type: nope, name: n, realm: r }]"),
  );
  const failed = await deno(["--check-config", bad]).output();
  assert.equal(failed.code, 1);
  assert.match(new TextDecoder().decode(failed.stderr), /unknown provider type "nope"/);
});

Deno.test("main.ts drains and exits 0 on SIGTERM", async () => {
  const path = await writeConfig(BASE);
  const child = deno([], { AOT_CONFIG_PATH: path }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  while (!seen.includes("startup.server.listening")) {
    const { value, done } = await reader.read();
    if (done) break;
    seen += value;
  }
  const port = JSON.parse(seen.split("\n").find((l) => l.includes("startup.server.listening"))!)
    .attributes.port;
  const health = await fetch(`http://127.0.0.1:${port}/health`);
  assert.equal(await health.text(), "OK");
  child.kill("SIGTERM");
  while (!(await reader.read()).done) { /* drain */ }
  const status = await child.status;
  await child.stderr.cancel();
  assert.equal(status.code, 0);
});

Deno.test("main.ts --default-config applies only when AOT_CONFIG_PATH is unset", async () => {
  const good = await writeConfig(BASE);
  const bad = await writeConfig("version: 7");
  const withDefault = await deno(["--check-config-dry"], {}).output(); // unknown flags are ignored
  assert.equal(withDefault.code, 1, "no config at ./config.yaml and no default");
  const usesDefault = deno(["--default-config", bad], {});
  const out = await usesDefault.output();
  assert.match(new TextDecoder().decode(out.stderr), /version/);
  const envWins = deno(["--default-config", bad], { AOT_CONFIG_PATH: good }).spawn();
  const reader = envWins.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  while (!seen.includes("startup.server.listening")) {
    const { value, done } = await reader.read();
    if (done) break;
    seen += value;
  }
  assert.ok(seen.includes("startup.server.listening"), "the env path was served");
  envWins.kill("SIGTERM");
  while (!(await reader.read()).done) { /* drain */ }
  await envWins.stderr.cancel();
  assert.equal((await envWins.status).code, 0);
});
