/**
 * The Dockerfile read as data, for tests that run what the image runs without
 * a container engine: its instructions, its `CMD`/`HEALTHCHECK` argv with the
 * image's paths mapped onto the checkout (`/app`) and a temp dir
 * (`/etc/authotron`, `/app/data`), and the environment the image gives Deno.
 *
 * @module
 */

import assert from "node:assert/strict";

/** The repository root (no trailing slash). */
export const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

/** The Dockerfile's text. */
export const DOCKERFILE = await Deno.readTextFile(`${ROOT}/Dockerfile`);

/** Joins continuation lines and returns `[instruction, rest]` pairs of a Dockerfile. */
export function instructions(text: string): [string, string][] {
  return text.replace(/\\\n/g, " ").split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => {
      const space = line.indexOf(" ");
      return [line.slice(0, space).toUpperCase(), line.slice(space + 1).trim()];
    });
}

/** The argument of the Dockerfile's one `name` instruction (fails when there are 0 or 2+). */
export function only(name: string): string {
  const found = instructions(DOCKERFILE).filter(([instruction]) => instruction === name);
  assert.equal(found.length, 1, `exactly one ${name}`);
  return found[0]![1];
}

/** The `CMD` argv (exec form). */
export function imageCmd(): string[] {
  return JSON.parse(only("CMD"));
}

/** The `HEALTHCHECK`'s `CMD` argv (exec form). */
export function imageHealthcheck(): string[] {
  return JSON.parse(only("HEALTHCHECK").match(/CMD (\[.*\])$/)![1]!);
}

/** The ports of `EXPOSE`. */
export function exposedPorts(): number[] {
  return only("EXPOSE").split(/\s+/).map(Number);
}

/** The image's `ENV` as a record. */
export function imageEnv(): Record<string, string> {
  const [name, ...value] = only("ENV").split("=");
  return { [name!]: value.join("=") };
}

/** Maps the image's paths onto this machine: `/app` → the checkout, `/etc/authotron` → `etc`. */
export function mapPaths(arg: string, etc: string): string {
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

/** Replaces a leading `deno` by the Deno running the tests. */
export function withDeno(argv: string[]): { command: string; args: string[] } {
  assert.equal(argv[0], "deno");
  return { command: Deno.execPath(), args: argv.slice(1) };
}

/**
 * The image's `CMD` as a command run from the checkout, with the image's paths
 * mapped onto `etc` and only the image's environment plus `env` (whose values
 * are path-mapped too), like a container with those variables set.
 */
export function imageCommand(etc: string, env: Record<string, string>): Deno.Command {
  const cmd = withDeno(imageCmd().map((arg) => mapPaths(arg, etc)));
  const merged: Record<string, string> = { ...imageEnv(), ...env };
  for (const [name, value] of Object.entries(merged)) merged[name] = mapPaths(value, etc);
  return new Deno.Command(cmd.command, {
    args: cmd.args,
    cwd: ROOT,
    env: { ...merged, ...imageBaseEnv() },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}

/**
 * Runs a health-check argv (`deno run … tools/healthcheck.ts URL`) from the
 * checkout with `127.0.0.1:<containerPort>` pointed at `port`; returns its exit code.
 */
export async function runHealthcheck(
  argv: string[],
  containerPort: number,
  port: number,
): Promise<number> {
  const check = withDeno(
    argv.map((a) => a.replaceAll(`127.0.0.1:${containerPort}`, `127.0.0.1:${port}`)),
  );
  const result = await new Deno.Command(check.command, {
    args: check.args,
    cwd: ROOT,
    stdout: "null",
    stderr: "null",
  }).output();
  return result.code;
}
