/**
 * deploy/systemd/authotron.service: `systemd-analyze verify` accepts it
 * without a warning, `systemd-analyze security` rates its sandbox, and its
 * ExecStart — run from the checkout with the unit's environment, the install
 * paths mapped onto temp dirs — serves a config whose token store writes into
 * the StateDirectory and nowhere else the flags do not allow.
 */
import assert from "node:assert/strict";
import { ROOT } from "../support/dockerfile.ts";
import { freePort, removeDir, run, systemTest, tempDir } from "../support/system.ts";
import { whileServing } from "../ingress/served_gateway.ts";
import { ALICE, DEPLOY, TEST_PROVIDERS } from "./helpers.ts";

const UNIT_PATH = `${DEPLOY}/systemd/authotron.service`;
const UNIT = await Deno.readTextFile(UNIT_PATH);

/** The values of `key` in `[section]`, in order (Environment= may repeat). */
function values(section: string, key: string): string[] {
  let current = "";
  const found: string[] = [];
  for (const raw of UNIT.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const header = line.match(/^\[(.+)\]$/);
    if (header) {
      current = header[1]!;
      continue;
    }
    const eq = line.indexOf("=");
    if (current === section && line.slice(0, eq) === key) found.push(line.slice(eq + 1));
  }
  return found;
}

function one(key: string): string {
  const found = values("Service", key);
  assert.equal(found.length, 1, `one ${key}=`);
  return found[0]!;
}

/** Environment= lines as a record. */
function environment(): Record<string, string> {
  return Object.fromEntries(
    values("Service", "Environment").map((assignment) => {
      const eq = assignment.indexOf("=");
      return [assignment.slice(0, eq), assignment.slice(eq + 1)];
    }),
  );
}

/** The unit with ExecStart's Deno replaced by the one running the tests (verify checks it exists). */
async function unitWithThisDeno(): Promise<string> {
  const dir = await tempDir("systemd");
  const argv = one("ExecStart").split(" ");
  await Deno.writeTextFile(
    `${dir}/authotron.service`,
    UNIT.replace(`ExecStart=${argv[0]}`, `ExecStart=${Deno.execPath()}`),
  );
  return dir;
}

systemTest("deploy/systemd/authotron.service passes systemd-analyze verify without a warning", [
  "systemd-analyze",
], async () => {
  const dir = await unitWithThisDeno();
  try {
    const output = await run("systemd-analyze", ["verify", `${dir}/authotron.service`]);
    assert.equal(output.trim(), "", "systemd-analyze verify prints nothing for a clean unit");
  } finally {
    await removeDir(dir);
  }
});

systemTest(
  "deploy/systemd/authotron.service: systemd-analyze security rates its sandbox OK (< 2.5)",
  ["systemd-analyze"],
  async () => {
    const dir = await unitWithThisDeno();
    try {
      const output = await run("systemd-analyze", [
        "security",
        "--offline=true",
        `${dir}/authotron.service`,
      ]);
      const level = output.match(/Overall exposure level for authotron\.service: ([\d.]+)/);
      assert.ok(level, output);
      assert.ok(Number(level[1]) < 2.5, `exposure ${level[1]}`);
    } finally {
      await removeDir(dir);
    }
  },
);

Deno.test("deploy/systemd/authotron.service: a dedicated user, strict sandbox, narrow flags, reload by SIGHUP", () => {
  assert.equal(one("User"), "authotron");
  assert.equal(one("ProtectSystem"), "strict");
  assert.equal(one("NoNewPrivileges"), "yes");
  assert.equal(one("ExecReload"), "/bin/kill -HUP $MAINPID");
  const state = `/var/lib/${one("StateDirectory")}`;
  const argv = one("ExecStart").split(" ");
  assert.deepEqual(argv.slice(1, 4), ["run", "--cached-only", "--frozen"]);
  assert.equal(argv.at(-1), "main.ts");
  assert.ok(!argv.some((a) => ["-A", "--allow-all", "--allow-run"].includes(a)), argv.join(" "));
  assert.ok(argv.includes(`--allow-write=${state}`), "writes only the StateDirectory");
  const env = environment();
  assert.ok(env.AOT_STORE__PATH!.startsWith(`${state}/`));
  const allowRead = argv.find((a) => a.startsWith("--allow-read="))!.split("=")[1]!.split(",");
  const config = env.AOT_CONFIG_PATH!;
  assert.ok(allowRead.includes(one("WorkingDirectory")), "reads the code");
  assert.ok(allowRead.includes(config.slice(0, config.lastIndexOf("/"))), "reads the config dir");
  assert.ok(allowRead.includes(state), "Deno KV reads its file too");
  assert.ok(env.DENO_DIR!.startsWith(`${one("WorkingDirectory")}/`), "its cache is under the code");
});

Deno.test("deploy/systemd/authotron.service's ExecStart serves, and the token store lands in the StateDirectory", async () => {
  const sandbox = await tempDir("systemd-run");
  try {
    const code = one("WorkingDirectory");
    const state = `/var/lib/${one("StateDirectory")}`;
    const configDir = environment().AOT_CONFIG_PATH!.replace(/\/[^/]+$/, "");
    /** The unit's paths on this machine: the checkout is the code, temp dirs the rest. */
    const map = (value: string) =>
      value.replaceAll(code, ROOT).replaceAll(configDir, `${sandbox}/etc`)
        .replaceAll(state, `${sandbox}/state`);
    await Deno.mkdir(`${sandbox}/etc`);
    await Deno.mkdir(`${sandbox}/state`); // systemd creates the StateDirectory before starting
    const port = freePort();
    await Deno.writeTextFile(
      `${sandbox}/etc/config.yaml`,
      `version: "2.0.0"
server: { host: 127.0.0.1, port: ${port} }
metrics: { enabled: false }
jwt: { iss: systemd-test, exp: 60, secret: systemd-test-secret-at-least-32-bytes }
store: { enabled: true } # embedded Deno KV; its path comes from the unit's AOT_STORE__PATH
services: []
logging: { level: warn, format: json }
providers: []
`,
    );
    const env: Record<string, string> = { AOT_PROVIDERS: TEST_PROVIDERS };
    for (const [name, value] of Object.entries(environment())) {
      // DENO_DIR names the install's cache; the test's own Deno cache holds the same lockfile.
      if (name !== "DENO_DIR") env[name] = map(value);
    }
    for (const name of ["HOME", "DENO_DIR"]) {
      const value = Deno.env.get(name);
      if (value !== undefined) env[name] = value;
    }
    const argv = one("ExecStart").split(" ").map(map);
    const command = new Deno.Command(Deno.execPath(), {
      args: argv.slice(1),
      cwd: map(code),
      env,
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    });
    const output = await whileServing(command, port, "the unit's ExecStart", async () => {
      const created = await fetch(`http://127.0.0.1:${port}/tokens`, {
        method: "POST",
        headers: { authorization: ALICE },
      });
      const body = await created.json();
      assert.equal(created.status, 200, JSON.stringify(body));
      const res = await fetch(`http://127.0.0.1:${port}/authenticate`, {
        headers: { authorization: `Bearer ${body.token}` },
      });
      await res.body?.cancel();
      assert.equal(res.status, 200);
    });
    const text = new TextDecoder().decode(output.stderr) + new TextDecoder().decode(output.stdout);
    assert.equal(output.code, 0, text);
    assert.doesNotMatch(text, /NotCapable|Requires .* access/);
    const files = [...Deno.readDirSync(`${sandbox}/state`)].map((e) => e.name);
    assert.ok(files.includes("tokens.kv"), `the store is in the StateDirectory: ${files}`);
  } finally {
    await removeDir(sandbox);
  }
});
