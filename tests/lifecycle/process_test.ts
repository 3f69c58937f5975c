import assert from "node:assert/strict";
import { mainCommand, startMain } from "./main_process.ts";

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
  const out = await mainCommand(["--schema"], { AOT_CONFIG_PATH: "/nonexistent.yaml" }).output();
  assert.equal(out.code, 0);
  const schema = JSON.parse(new TextDecoder().decode(out.stdout));
  assert.equal(schema.title, "Config");
});

Deno.test("main.ts refuses a bad config with exit 1 and a message naming file and key", async () => {
  const path = await writeConfig(BASE.replace("port: 0", 'port: "abc"'));
  const out = await mainCommand([], { AOT_CONFIG_PATH: path }).output();
  assert.equal(out.code, 1);
  const stderr = new TextDecoder().decode(out.stderr);
  assert.match(stderr, /^Error loading configuration: .*config\.yaml:2:\d+ server\.port/);
});

Deno.test("main.ts --check-config validates without serving", async () => {
  const good = await writeConfig(BASE);
  const ok = await mainCommand(["--check-config", good]).output();
  assert.equal(ok.code, 0, new TextDecoder().decode(ok.stderr));
  assert.match(new TextDecoder().decode(ok.stdout), /configuration OK/);
  const bad = await writeConfig(
    BASE.replace("providers: []", "providers: [{ type: nope, name: n, realm: r }]"),
  );
  const failed = await mainCommand(["--check-config", bad]).output();
  assert.equal(failed.code, 1);
  assert.match(new TextDecoder().decode(failed.stderr), /unknown provider type "nope"/);
});

Deno.test("main.ts drains and exits 0 on SIGTERM", async () => {
  const path = await writeConfig(BASE);
  const main = await startMain([], { AOT_CONFIG_PATH: path }, "startup.server.listening");
  const port = JSON.parse(
    main.output.split("\n").find((l) => l.includes("startup.server.listening"))!,
  ).attributes.port;
  const health = await fetch(`http://127.0.0.1:${port}/health`);
  assert.equal(await health.text(), "OK");
  assert.equal(await main.stop(), 0);
});

Deno.test("main.ts --default-config applies only when AOT_CONFIG_PATH is unset", async () => {
  const good = await writeConfig(BASE);
  const bad = await writeConfig("version: 7");
  const withDefault = await mainCommand(["--check-config-dry"], {}).output(); // unknown flags are ignored
  assert.equal(withDefault.code, 1, "no config at ./config.yaml and no default");
  const usesDefault = mainCommand(["--default-config", bad], {});
  const out = await usesDefault.output();
  assert.match(new TextDecoder().decode(out.stderr), /version/);
  const envWins = await startMain(
    ["--default-config", bad],
    { AOT_CONFIG_PATH: good },
    "startup.server.listening",
  );
  assert.ok(envWins.output.includes("startup.server.listening"), "the env path was served");
  assert.equal(await envWins.stop(), 0);
});
