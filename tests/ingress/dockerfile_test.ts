/**
 * No container engine runs in these tests, so this test runs exactly the
 * commands the Dockerfile runs, with the image's paths mapped onto the
 * checkout (/app) and a temp dir (/etc/authotron, /app/data): the build-time
 * `deno cache`, the CMD (a real gateway with a built-in and a third-party
 * plugin) and the HEALTHCHECK.
 */
import assert from "node:assert/strict";
import {
  DOCKERFILE,
  imageCommand,
  imageHealthcheck,
  instructions,
  only,
  ROOT,
  runHealthcheck,
} from "../support/dockerfile.ts";
import { freePort } from "../support/system.ts";
import {
  assertBothProvidersAuthenticate,
  whileServing,
  writeGatewaySetup,
} from "./served_gateway.ts";

const DENO = Deno.execPath();

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
    // The image's environment: its ENV, plus where the base image keeps Deno's cache.
    const command = imageCommand(etc, {});
    const result = await whileServing(command, port, "the Dockerfile's CMD", async () => {
      await assertBothProvidersAuthenticate(port);
      assert.equal(await runHealthcheck(imageHealthcheck(), 8080, port), 0);
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
