/**
 * `deno task new-plugin`: the generated plugin's test passes as generated (in
 * a directory outside the repository, through the generated deno.json), the
 * files are fmt/lint clean, and the generated config serves the plugin from
 * `deno run main.ts` (the gateway resolves `@authotron/plugin` for it).
 */

import assert from "node:assert/strict";
import { decodeJwt } from "jose";
import { basicAuth } from "../support/gateway.ts";
import { freePort, removeDir, tempDir } from "../support/system.ts";
import { whileServing } from "../ingress/served_gateway.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const decoder = new TextDecoder();

async function deno(args: string[], cwd: string): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    stdout: "piped",
    stderr: "piped",
    // `deno task` keeps an INIT_CWD it inherits (from an outer `deno task test`): set it as
    // `deno task new-plugin` typed in `cwd` would.
    env: { NO_COLOR: "1", INIT_CWD: cwd },
  }).output();
  const text = decoder.decode(out.stdout) + decoder.decode(out.stderr);
  assert.ok(out.success, `deno ${args.join(" ")}:\n${text}`);
  return text;
}

/** The start task's argv after `deno`, serving the config at AOT_CONFIG_PATH. */
async function startArgs(): Promise<string[]> {
  const tasks = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)).tasks;
  const argv = String(tasks.start).trim().split(/\s+/);
  assert.equal(argv[0], "deno");
  return argv.slice(1);
}

async function serve(config: string, check: (url: string) => Promise<void>): Promise<void> {
  const port = freePort();
  const command = new Deno.Command(Deno.execPath(), {
    args: await startArgs(),
    cwd: ROOT,
    env: {
      AOT_CONFIG_PATH: config,
      AOT_SERVER__PORT: String(port),
      AOT_METRICS__ENABLED: "false",
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
  await whileServing(command, port, "deno task start", () => check(`http://127.0.0.1:${port}`));
}

async function authenticate(url: string, authorization: string) {
  const res = await fetch(`${url}/authenticate`, { headers: { authorization } });
  await res.body?.cancel();
  assert.equal(res.status, 200, authorization);
  return decodeJwt(res.headers.get("authorization")!.slice("Bearer ".length));
}

Deno.test("new-plugin: a provider and an augmenter outside the repo: their tests pass, their configs serve", async () => {
  const dir = await tempDir("new-plugin");
  try {
    const task = ["task", "--config", `${ROOT}deno.json`, "new-plugin"];
    const wrote = await deno([...task, "provider", "my-robots", "plugins"], dir);
    assert.match(wrote, /wrote .*\/plugins\/my_robots\.ts/);
    await deno([...task, "augmenter", "staff-roles", "plugins"], dir);
    const plugins = `${dir}/plugins`;
    const tested = await deno(["test", "--allow-read", "--allow-net"], plugins);
    assert.match(tested, /ok \| 4 passed \| 0 failed/, tested);
    await deno(["fmt", "--check"], plugins);
    await deno(["lint"], plugins);
    await deno(["check", "my_robots.ts", "staff_roles.ts"], plugins);

    await serve(`${plugins}/my_robots.config.yaml`, async (url) => {
      const claims = await authenticate(url, "Bearer change-me-robot-token");
      assert.equal(claims.username, "robot");
      assert.equal(claims.realm, "machines");
      assert.deepEqual(claims.roles, ["machine"]);
    });
    await serve(`${plugins}/staff_roles.config.yaml`, async (url) => {
      const claims = await authenticate(url, basicAuth("alice:alice-password"));
      assert.deepEqual(claims.roles, ["user", "staff"]);
    });
  } finally {
    await removeDir(dir);
  }
});

Deno.test("new-plugin: refuses a bad kind or name and never overwrites a file", async () => {
  const dir = await tempDir("new-plugin");
  try {
    const run = (args: string[]) =>
      new Deno.Command(Deno.execPath(), {
        args: ["task", "--config", `${ROOT}deno.json`, "new-plugin", ...args],
        cwd: dir,
        env: { INIT_CWD: dir },
        stdout: "piped",
        stderr: "piped",
      }).output();
    for (const args of [["gizmo", "x"], ["provider", "Bad Name"], ["provider"]]) {
      const out = await run(args);
      assert.equal(out.code, 2, args.join(" "));
      assert.match(decoder.decode(out.stderr), /usage: deno task new-plugin/);
    }
    await Deno.writeTextFile(`${dir}/robots.ts`, "// mine\n");
    const out = await run(["provider", "robots", "."]);
    assert.equal(out.code, 2);
    assert.match(decoder.decode(out.stderr), /robots\.ts already exists/);
    assert.equal(await Deno.readTextFile(`${dir}/robots.ts`), "// mine\n");
  } finally {
    await removeDir(dir);
  }
});
