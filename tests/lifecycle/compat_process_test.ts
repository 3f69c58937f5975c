// Checklist rows of spec 15 about the process itself: argv, exit codes and
// stderr for refused configs, and v1 bind_address on real ports.
import assert from "node:assert/strict";
import { isCi } from "../support/system.ts";
import { mainCommand, startMain } from "./main_process.ts";

const decoder = new TextDecoder();

const V2 = `version: "2.0.0"
server: { host: 127.0.0.1, port: 18080 }
metrics: { enabled: false }
store: { enabled: false }
services: []
providers: []
jwt: { iss: i, exp: 60, secret: s }
logging: { level: info, format: json }
`;

function v1(bind: string): string {
  return `version: "1.0.0"
bind_address: "${bind}"
store: { enabled: false }
services: []
providers: []
jwt: { iss: i, exp: 60, secret: s }
logging: { level: info, format: json }
`;
}

/** Runs main.ts on `yaml` and returns its exit code and stderr. */
async function runWith(yaml: string): Promise<{ code: number; stderr: string }> {
  const dir = await Deno.makeTempDir({ prefix: "aot-compat-" });
  try {
    await Deno.writeTextFile(`${dir}/config.yaml`, yaml);
    const out = await mainCommand([], { AOT_CONFIG_PATH: `${dir}/config.yaml` }).output();
    return { code: out.code, stderr: decoder.decode(out.stderr) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function without(key: string): string {
  return V2.split("\n").filter((line) => !line.startsWith(`${key}:`)).join("\n");
}

Deno.test("main.ts --schema anywhere in argv prints the schema, exit 0 (row 1)", async () => {
  const out = await mainCommand(["--unknown", "x", "--schema"], {
    AOT_CONFIG_PATH: "/nonexistent.yaml",
  })
    .output();
  assert.equal(out.code, 0);
  assert.equal(JSON.parse(decoder.decode(out.stdout)).title, "Config");
});

Deno.test("main.ts a missing config file: 'Error loading configuration: …', exit 1 (row 2)", async () => {
  const out = await mainCommand([], { AOT_CONFIG_PATH: "/nonexistent/config.yaml" }).output();
  assert.equal(out.code, 1);
  assert.match(decoder.decode(out.stderr), /^Error loading configuration: .*nonexistent/);
});

Deno.test("main.ts refuses bad versions, missing v2 sections, a port collision and a bad log level with exit 1 (rows 3, 4, 5, 8, 15)", async () => {
  const cases: [string, string, RegExp][] = [
    ["version 3.0.0", V2.replace('"2.0.0"', '"3.0.0"'), /version/],
    ["version 2 unquoted", V2.replace('"2.0.0"', "2"), /version/],
    ["no server", without("server"), /server/],
    ...["providers", "jwt", "logging"].map((
      key,
    ): [string, string, RegExp] => [`no ${key}`, without(key), new RegExp(key)]),
    [
      "port collision",
      V2.replace("metrics: { enabled: false }", "metrics: { enabled: true, port: 18080 }"),
      /must be different/,
    ],
    ["log level", V2.replace("level: info", "level: verbose"), /logging\.level/],
  ];
  for (const [label, yaml, pattern] of cases) {
    const { code, stderr } = await runWith(yaml);
    assert.equal(code, 1, label);
    assert.match(stderr, /^Error loading configuration: /, label);
    assert.match(stderr, pattern, label);
  }
});

Deno.test("main.ts serves a file without store: or services: (row 5, issue 17)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "aot-compat-" });
  try {
    const yaml = without("store").replace("services: []\n", "")
      .replace("port: 18080", "port: 0");
    await Deno.writeTextFile(`${dir}/config.yaml`, yaml);
    const main = await startMain(
      [],
      { AOT_CONFIG_PATH: `${dir}/config.yaml` },
      "startup.server.listening",
    );
    const code = await main.stop();
    assert.match(main.output, /startup\.server\.listening/);
    assert.equal(code, 0, main.output);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("main.ts v1 bind_address without host:port is 'Error migrating v1 config', exit 1 (row 11)", async () => {
  for (const bind of ["localhost", ":3000", "h:abc"]) {
    const { code, stderr } = await runWith(v1(bind));
    assert.equal(code, 1, bind);
    assert.match(stderr, /bind_address: Error migrating v1 config: /, bind);
  }
});

/** True when something can bind `hostname:port` right now. */
function canBind(hostname: string, port: number): boolean {
  try {
    Deno.listen({ hostname, port }).close();
    return true;
  } catch {
    return false;
  }
}

function freePortOn(hostname: string): number {
  const listener = Deno.listen({ hostname, port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/**
 * Serves a v1 config on `host` (bracketed in bind_address for IPv6) and
 * checks /health on the application port and on the fixed metrics port 9090.
 */
async function serveV1(host: string, bracketed: string): Promise<void> {
  const port = freePortOn(host);
  const dir = await Deno.makeTempDir({ prefix: "aot-compat-v1-" });
  await Deno.writeTextFile(`${dir}/config.yaml`, v1(`${bracketed}:${port}`));
  const main = await startMain(
    [],
    { AOT_CONFIG_PATH: `${dir}/config.yaml` },
    "startup.metrics.listening",
  );
  try {
    const url = (p: number, path: string) => `http://${bracketed}:${p}${path}`;
    for (const target of [url(port, "/health"), url(9090, "/health")]) {
      const res = await fetch(target);
      assert.equal(await res.text(), "OK", target);
    }
    assert.equal((await fetch(url(9090, "/metrics"))).status, 200);
    const onApp = await fetch(url(port, "/metrics"));
    await onApp.body?.cancel();
    assert.equal(onApp.status, 404);
  } finally {
    await main.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

/** Registers a test needing `host`:9090 free; skips loudly (fails with CI=true) otherwise. */
function portTest(name: string, host: string, fn: () => Promise<void>): void {
  const reason = canBind(host, 9090)
    ? undefined
    : `${host}:9090 cannot be bound (in use, or no such address)`;
  if (reason === undefined) {
    Deno.test(name, fn);
  } else if (isCi()) {
    Deno.test(name, () => {
      throw new Error(reason);
    });
  } else {
    Deno.stderr.writeSync(new TextEncoder().encode(`SKIPPED ${name}: ${reason}\n`));
    Deno.test({ name, ignore: true, fn });
  }
}

portTest(
  "main.ts v1 bind_address 127.0.0.1:PORT serves on PORT, metrics on 9090 (row 9)",
  "127.0.0.1",
  () => serveV1("127.0.0.1", "127.0.0.1"),
);

portTest(
  "main.ts v1 bind_address [::1]:PORT binds the IPv6 loopback (row 10)",
  "::1",
  () => serveV1("::1", "[::1]"),
);
