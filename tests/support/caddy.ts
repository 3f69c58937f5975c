/**
 * Debian's caddy for system tests, run in the foreground from a temp dir
 * (`caddy run --adapter caddyfile --config $D/Caddyfile`, HOME and XDG dirs
 * inside it, so nothing is written elsewhere):
 *
 * ```ts
 * await using proxy = await startCaddy(({ port }) =>
 *   `{\n\tadmin off\n\tauto_https off\n}\nhttp://127.0.0.1:${port} {\n\trespond "hi"\n}\n`
 * );
 * await fetch(proxy.url);
 * ```
 *
 * @module
 */

import {
  freePort,
  type ManagedProcess,
  removeDir,
  requireBinary,
  run,
  spawnLogged,
  tempDir,
  waitForPort,
} from "./system.ts";

/** A running test caddy. */
export interface CaddyServer {
  /** The port caddy listens on (127.0.0.1). */
  port: number;
  /** `http://127.0.0.1:PORT`. */
  url: string;
  /** The temp dir (holds the Caddyfile and caddy.log). */
  dir: string;
  /** Stops caddy (SIGTERM, graceful) and removes the temp dir. */
  stop(): Promise<void>;
}

/**
 * Starts caddy with the given Caddyfile text, or with the text a builder
 * returns for a free port. The config is checked with `caddy validate` first.
 * Throws `MissingBinaryError` without caddy.
 */
export async function startCaddy(
  conf: string | ((context: { port: number; dir: string }) => string),
): Promise<CaddyServer & AsyncDisposable> {
  const caddy = requireBinary("caddy");
  const dir = await tempDir("caddy");
  let proc: ManagedProcess | undefined;
  const stop = async () => {
    await proc?.stop("SIGTERM", 10_000);
    await removeDir(dir);
  };
  try {
    const port = freePort();
    const text = typeof conf === "string" ? conf : conf({ port, dir });
    await Deno.writeTextFile(`${dir}/Caddyfile`, text);
    const env = { HOME: dir, XDG_CONFIG_HOME: `${dir}/config`, XDG_DATA_HOME: `${dir}/data` };
    const args = ["--adapter", "caddyfile", "--config", `${dir}/Caddyfile`];
    await run(caddy, ["validate", ...args], { env });
    proc = await spawnLogged(caddy, { args: ["run", ...args], env, logFile: `${dir}/caddy.log` });
    await waitForPort(port, 30_000, proc);
    return { port, url: `http://127.0.0.1:${port}`, dir, stop, [Symbol.asyncDispose]: stop };
  } catch (error) {
    await stop();
    throw new Error(`startCaddy failed: ${error instanceof Error ? error.message : error}`, {
      cause: error,
    });
  }
}
