/**
 * `--check-config --typecheck-plugins` (`deno task check-plugins`): `deno check`
 * on every `module:` plugin with the gateway's import map, so a type error that
 * the run-time shape checks let through stops the check with the entry's
 * file, line and key.
 */

import assert from "node:assert/strict";
import { removeDir, tempDir } from "../support/system.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const ROOT = new URL("../../", import.meta.url).pathname;

const PLUGIN = (body: string) =>
  `import { defineProvider } from "@authotron/plugin";
export default defineProvider({
  scheme: "Bearer",
  create() {
    return {
      authenticate(credential: string) {
        ${body}
        return credential === "k" ? { username: "robot" } : undefined;
      },
    };
  },
});
`;

const CONFIG = `version: "2.0.0"
server: { host: 127.0.0.1, port: 8080 }
services: []
jwt: { iss: t, exp: 60, secret: typecheck-test-secret-at-least-32-bytes }
store: { enabled: false }
logging: { level: warn, format: json }
providers:
  - type: plain
    name: people
    realm: demo
    users: [{ username: alice, password: pw }]
  - module: ./robots.ts
    name: robots
    realm: machines
`;

async function check(dir: string, flags: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...flags, MAIN, "--check-config", `${dir}/config.yaml`, "--typecheck-plugins"],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

Deno.test("--typecheck-plugins: a type error in a module plugin fails with the entry's line; a clean plugin passes", async () => {
  const dir = await tempDir("typecheck");
  try {
    await Deno.writeTextFile(`${dir}/config.yaml`, CONFIG);
    await Deno.writeTextFile(`${dir}/robots.ts`, PLUGIN(`const port: number = "8080";`));
    const plain = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-env", "--allow-read", MAIN, "--check-config", `${dir}/config.yaml`],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(plain.code, 0, "without the option only the run-time shape is checked");

    const bad = await check(dir, ["--allow-env", "--allow-read", "--allow-run"]);
    assert.equal(bad.code, 1, bad.stdout);
    assert.match(
      bad.stderr,
      /config\.yaml:12:\d+ providers\[1\]\.module: provider "robots": deno check failed for file:\/\/.*robots\.ts/,
    );
    assert.match(bad.stderr, /TS2322/);

    await Deno.writeTextFile(`${dir}/robots.ts`, PLUGIN(`const port: number = 8080;`));
    const good = await check(dir, ["--allow-env", "--allow-read", "--allow-run"]);
    assert.equal(good.code, 0, good.stderr);
    assert.match(good.stdout, /configuration OK \(1 module plugin type-checked\)/);
  } finally {
    await removeDir(dir);
  }
});

Deno.test("--typecheck-plugins: without --allow-run it says how to grant it", async () => {
  const dir = await tempDir("typecheck");
  try {
    await Deno.writeTextFile(`${dir}/config.yaml`, CONFIG);
    await Deno.writeTextFile(`${dir}/robots.ts`, PLUGIN(""));
    const out = await check(dir, ["--allow-env", "--allow-read"]);
    assert.equal(out.code, 1);
    assert.match(out.stderr, /--typecheck-plugins runs `deno check`: grant it with --allow-run/);
  } finally {
    await removeDir(dir);
  }
});
