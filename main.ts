/**
 * Auth-O-Tron entrypoint.
 *
 * - `main.ts --schema`: print the config's JSON Schema and exit 0.
 * - `main.ts --check-config [path]`: validate a config file, its plugins and
 *   its JWT signing keys without serving (no network access), exit 0 or 1.
 *   With `--typecheck-plugins` it also runs `deno check` on every `module:`
 *   plugin (needs `--allow-run`; `deno task check-plugins`).
 * - `main.ts [--default-config path]`: load `AOT_CONFIG_PATH` (else the
 *   `--default-config` path, else `./config.yaml`) and serve until SIGTERM/SIGINT,
 *   then drain and exit 0. The `start` task passes `config.example.yaml`.
 *
 * @module
 */

import { configJsonSchema, configPathFromEnv, loadConfig } from "./lib/config/load.ts";
import { GatewayError } from "./lib/util/errors.ts";
import { checkPlugins, createGateway } from "./lib/gateway.ts";
import { loadJwtKeys } from "./lib/jwt/keys.ts";
import { typecheckPlugins } from "./lib/plugins/typecheck.ts";
import { type RunningGateway, serveGateway } from "./lib/server.ts";

const encoder = new TextEncoder();

function write(stream: { writeSync(p: Uint8Array): number }, text: string): void {
  const bytes = encoder.encode(text + "\n");
  let written = 0;
  while (written < bytes.length) written += stream.writeSync(bytes.subarray(written));
}

function fail(prefix: string, error: unknown): never {
  const message = error instanceof Error ? error.message : String(error);
  write(Deno.stderr, `${prefix}: ${message}`);
  Deno.exit(1);
}

async function main(args: string[]): Promise<void> {
  if (args.includes("--schema")) {
    write(Deno.stdout, JSON.stringify(configJsonSchema(), null, 2));
    return;
  }
  const checkIndex = args.indexOf("--check-config");
  const env = Deno.env.toObject();
  const defaultIndex = args.indexOf("--default-config");
  const fallback = defaultIndex >= 0 ? args[defaultIndex + 1] : undefined;
  const checkPath = checkIndex >= 0 ? args[checkIndex + 1] : undefined;
  const path = checkPath !== undefined && !checkPath.startsWith("--")
    ? checkPath
    : env.AOT_CONFIG_PATH || fallback === undefined
    ? configPathFromEnv(env)
    : fallback;
  const config = await loadConfig(path, env).catch((e: unknown) =>
    fail("Error loading configuration", e)
  );
  if (checkIndex >= 0) {
    await checkPlugins(config).catch((e: unknown) => fail("Error loading configuration", e));
    await loadJwtKeys(config, env).catch((e: unknown) => fail("Error loading configuration", e));
    if (args.includes("--typecheck-plugins")) {
      const count = await typecheckPlugins(config).catch((e: unknown) =>
        fail("Error loading configuration", e)
      );
      write(
        Deno.stdout,
        `${path}: configuration OK (${count} module plugin${count === 1 ? "" : "s"} type-checked)`,
      );
      return;
    }
    write(Deno.stdout, `${path}: configuration OK`);
    return;
  }
  const gateway = await createGateway(config).catch((e) =>
    fail(e instanceof GatewayError ? "Error loading configuration" : "Error starting", e)
  );
  // Signal handlers go in before the listeners bind, so a SIGTERM that arrives
  // right after "listening" is logged still drains instead of killing the process.
  let running: RunningGateway | undefined;
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    (running?.shutdown() ?? gateway[Symbol.asyncDispose]()).then(() => Deno.exit(0));
  };
  Deno.addSignalListener("SIGTERM", stop);
  Deno.addSignalListener("SIGINT", stop);
  try {
    running = serveGateway(gateway);
  } catch (error) {
    gateway.log.error("startup.server.failed", String((error as Error).message));
    await gateway[Symbol.asyncDispose]();
    fail("Error starting", error);
  }
  await running.finished;
}

if (import.meta.main) await main(Deno.args);
