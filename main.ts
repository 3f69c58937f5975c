/**
 * Auth-O-Tron entrypoint.
 *
 * - `main.ts --help` / `-h`: print usage and exit 0; `--version`: print
 *   `authotron <version>` and exit 0. Neither needs a config file.
 * - `main.ts --schema`: print the config's JSON Schema and exit 0.
 * - `main.ts --explain [path] [--realm r]`: explain the decision for the
 *   Authorization value on stdin as `GET /explain` does, print JSON, exit 0.
 * - `main.ts --check-config [path]`: validate a config file, its plugins and
 *   its JWT signing keys without serving (no network access), exit 0 or 1.
 *   With `--typecheck-plugins` it also runs `deno check` on every `module:`
 *   plugin (needs `--allow-run`; `deno task check-plugins`).
 * - `main.ts [--default-config path] [--watch-config]`: load `AOT_CONFIG_PATH`
 *   (else the `--default-config` path, else `./config.yaml`) and serve until
 *   SIGTERM/SIGINT, then drain and exit 0. SIGHUP (and, with `--watch-config`,
 *   a change of the file) reloads the config. The `start` task passes
 *   `config.example.yaml`.
 *
 * @module
 */

import { parseCommandLine, USAGE, VERSION_LINE } from "./lib/config/cli.ts";
import { watchConfigFile } from "./lib/config/watch.ts";
import { configJsonSchema, configPathFromEnv, loadConfig } from "./lib/config/load.ts";
import { combineConfigErrors, ConfigError, GatewayError } from "./lib/util/errors.ts";
import type { Config } from "./lib/config/types.ts";
import { explainDecision } from "./lib/http/explain_routes.ts";
import { checkPlugins, createGateway, unknownKeys } from "./lib/gateway.ts";
import { describeUnknownKey } from "./lib/config/unknown_keys.ts";
import { loadJwtKeys } from "./lib/jwt/keys.ts";
import { typecheckPlugins } from "./lib/plugins/typecheck.ts";
import { type RunningGateway, serveGateway } from "./lib/server.ts";

const encoder = new TextEncoder();

function write(stream: { writeSync(p: Uint8Array): number }, text: string): void {
  const bytes = encoder.encode(text + "\n");
  let written = 0;
  while (written < bytes.length) written += stream.writeSync(bytes.subarray(written));
}

/** Prints `prefix: message` (one line per problem when there are several) and exits 1. */
function fail(prefix: string, error: unknown): never {
  const message = error instanceof Error ? error.message : String(error);
  for (const line of message.split("\n")) write(Deno.stderr, `${prefix}: ${line}`);
  Deno.exit(1);
}

/**
 * `--explain`: builds the gateway (logging to stderr), explains the decision
 * for the Authorization value on stdin, prints the JSON report, disposes.
 * The credential is read from stdin so that it never shows in `ps` or a
 * shell history.
 */
async function explainFromStdin(config: Config, realm: string | undefined): Promise<void> {
  const input = await new Response(Deno.stdin.readable).text();
  const authorization = input.split(/\r?\n/)[0]?.trim() || undefined;
  const gateway = await createGateway(config, {
    logger: { sink: (line) => write(Deno.stderr, line) },
  }).catch((e) => fail("Error loading configuration", e));
  try {
    const report = await explainDecision(gateway, authorization, realm, undefined);
    write(Deno.stdout, JSON.stringify(report, null, 2));
  } finally {
    await gateway[Symbol.asyncDispose]();
  }
}

async function main(args: string[]): Promise<void> {
  const cli = parseCommandLine(args);
  if (cli.mode === "schema") {
    write(Deno.stdout, JSON.stringify(configJsonSchema(), null, 2));
    return;
  }
  if (cli.mode === "help") return write(Deno.stdout, USAGE);
  if (cli.mode === "version") return write(Deno.stdout, VERSION_LINE);
  for (const option of cli.ignored) write(Deno.stderr, `ignoring unknown option ${option}`);
  const env = Deno.env.toObject();
  const fallback = cli.defaultConfig;
  const path = cli.pathArgument ??
    (env.AOT_CONFIG_PATH || fallback === undefined ? configPathFromEnv(env) : fallback);
  const config = await loadConfig(path, env).catch((e: unknown) =>
    fail("Error loading configuration", e)
  );
  if (cli.mode === "check-config") {
    // Every plugin entry and the signing keys are checked; all their problems are listed.
    const problems: unknown[] = [];
    const checked = await checkPlugins(config).catch((e: unknown) => (problems.push(e), []));
    await loadJwtKeys(config, env).catch((e: unknown) => problems.push(e));
    if (problems.length > 0) {
      const other = problems.find((p) => !(p instanceof ConfigError));
      fail("Error loading configuration", other ?? combineConfigErrors(problems as ConfigError[]));
    }
    const unknown = unknownKeys(config, checked);
    for (const key of unknown) write(Deno.stderr, describeUnknownKey(key));
    if (cli.strict && unknown.length > 0) {
      write(Deno.stderr, `${path}: ${unknown.length} unknown key(s), refused by --strict`);
      Deno.exit(1);
    }
    if (cli.typecheckPlugins) {
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
  if (cli.mode === "explain") return await explainFromStdin(config, cli.realm);
  // SIGHUP (systemd's ExecReload) reloads; one during startup is ignored instead of killing us.
  let reload = () => {};
  Deno.addSignalListener("SIGHUP", () => reload());
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
  // The outcome of a reload is logged by the gateway.
  reload = () => {
    if (!stopping) gateway.reload();
  };
  const watch = cli.watchConfig ? watchConfigFile(gateway.config.file, reload) : undefined;
  try {
    running = serveGateway(gateway);
  } catch (error) {
    gateway.log.error("startup.server.failed", String((error as Error).message));
    await gateway[Symbol.asyncDispose]();
    fail("Error starting", error);
  }
  await running.finished;
  watch?.close();
}

if (import.meta.main) await main(Deno.args);
