/**
 * The Dockerfile cannot be built here (no Docker engine), so this test runs
 * exactly the commands it runs, with the image's paths mapped onto the
 * checkout (/app) and a temp dir (/etc/authotron, /app/data): the build-time
 * `deno cache`, the CMD (a real gateway with a built-in and a third-party
 * plugin) and the HEALTHCHECK.
 */
import assert from "node:assert/strict";
import { freePort } from "../support/system.ts";
import {
  assertBothProvidersAuthenticate,
  whileServing,
  writeGatewaySetup,
} from "./served_gateway.ts";

const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
const DOCKERFILE = await Deno.readTextFile(`${ROOT}/Dockerfile`);
const DENO = Deno.execPath();

/** Joins continuation lines and returns `[instruction, rest]` pairs. */
function instructions(text: string): [string, string][] {
  return text.replace(/\\\n/g, " ").split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => {
      const space = line.indexOf(" ");
      return [line.slice(0, space).toUpperCase(), line.slice(space + 1).trim()];
    });
}

function only(name: string): string {
  const found = instructions(DOCKERFILE).filter(([instruction]) => instruction === name);
  assert.equal(found.length, 1, `exactly one ${name}`);
  return found[0]![1];
}

/** Maps the image's paths onto this machine. */
function mapPaths(arg: string, etc: string): string {
  return arg.replaceAll("/app/data", `${etc}/data`).replaceAll("/etc/authotron", etc)
    .replaceAll("/app", ROOT);
}

/** DENO_DIR (set by the base image) and HOME, so Deno finds the cache the build step filled. */
function imageBaseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ["DENO_DIR", "HOME"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return env;
}

function withDeno(argv: string[]): { command: string; args: string[] } {
  assert.equal(argv[0], "deno");
  return { command: DENO, args: argv.slice(1) };
}

Deno.test("Dockerfile uses the README's Deno image, a non-root user and no -A", async () => {
  const readme = await Deno.readTextFile(`${ROOT}/README.md`);
  const version = readme.match(/npx -y deno@(\d+\.\d+\.\d+)/)![1];
  assert.equal(only("FROM"), `denoland/deno:${version}`);
  assert.equal(only("USER"), "deno");
  assert.equal(only("WORKDIR"), "/app");
  assert.equal(only("ENV"), "AOT_CONFIG_PATH=/etc/authotron/config.yaml");
  assert.deepEqual(only("EXPOSE").split(/\s+/), ["8080", "9090"]);
  const cmd: string[] = JSON.parse(only("CMD"));
  assert.ok(
    !cmd.some((a) => a === "-A" || a === "--allow-all" || a === "--allow-run"),
    cmd.join(" "),
  );
  assert.ok(cmd.includes("--allow-write=/app/data"));
  const ignore = await Deno.readTextFile(`${ROOT}/.dockerignore`);
  for (const [instruction, rest] of instructions(DOCKERFILE)) {
    if (instruction !== "COPY") continue;
    for (const source of rest.split(/\s+/).slice(0, -1)) {
      assert.ok(ignore.includes(`!${source}`), `.dockerignore lets ${source} through`);
    }
  }
});

Deno.test("Dockerfile's build-time deno cache --frozen works from the lockfile", async () => {
  const run = instructions(DOCKERFILE).filter(([i, rest]) =>
    i === "RUN" && rest.startsWith("deno ")
  );
  assert.equal(run.length, 1);
  const script = run[0]![1];
  assert.match(script, /^deno cache --frozen main\.ts providers\/\*\.ts augmenters\/\*\.ts/);
  const result = await new Deno.Command("sh", {
    args: ["-c", script.replace(/^deno /, `"${DENO}" `)],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(result.success, new TextDecoder().decode(result.stderr));
});

Deno.test("Dockerfile's CMD serves a config with built-in and third-party plugins; HEALTHCHECK passes", async () => {
  const etc = await Deno.makeTempDir({ prefix: "authotron-docker-" });
  try {
    await Deno.mkdir(`${etc}/data`);
    const port = freePort();
    await writeGatewaySetup(etc, port, "docker");
    const env = only("ENV").split("=");
    const cmd = withDeno((JSON.parse(only("CMD")) as string[]).map((a) => mapPaths(a, etc)));
    const command = new Deno.Command(cmd.command, {
      args: cmd.args,
      cwd: ROOT,
      // The image's environment: its ENV, plus where the base image keeps Deno's cache.
      env: { [env[0]!]: mapPaths(env[1]!, etc), ...imageBaseEnv() },
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    });
    const result = await whileServing(command, port, "the Dockerfile's CMD", async () => {
      await assertBothProvidersAuthenticate(port);
      const health = only("HEALTHCHECK").match(/CMD (\[.*\])$/)![1]!;
      const check = withDeno(
        (JSON.parse(health) as string[]).map((a) =>
          a.replaceAll("127.0.0.1:8080", `127.0.0.1:${port}`)
        ),
      );
      const healthy = await new Deno.Command(check.command, { args: check.args, cwd: ROOT })
        .output();
      assert.equal(healthy.code, 0, new TextDecoder().decode(healthy.stderr));
    });
    const stderr = new TextDecoder().decode(result.stderr);
    assert.equal(result.code, 0, stderr);
    assert.doesNotMatch(
      stderr + new TextDecoder().decode(result.stdout),
      /NotCapable|Requires .* access/,
    );
  } finally {
    await Deno.remove(etc, { recursive: true });
  }
});

Deno.test("tools/healthcheck.ts fails when nothing answers", async () => {
  const port = freePort();
  const result = await new Deno.Command(DENO, {
    args: [
      "run",
      `--allow-net=127.0.0.1:${port}`,
      "tools/healthcheck.ts",
      `http://127.0.0.1:${port}/health`,
    ],
    cwd: ROOT,
  }).output();
  assert.equal(result.code, 1);
});
