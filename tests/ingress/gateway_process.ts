/**
 * A gateway replica as its own process (`deno run main.ts`, as deployed) on
 * a fixed port, for the tests that stop and restart replicas behind an
 * ingress.
 *
 * @module
 */

import { type ManagedProcess, spawnLogged, waitForPort } from "../support/system.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** A running gateway process. */
export interface GatewayProcess {
  /** The process. */
  readonly proc: ManagedProcess;
  /** `127.0.0.1:PORT`. */
  readonly hostPort: string;
}

/**
 * Starts `main.ts` on the config in `configPath` (which must serve on
 * `port`), logging to `logFile`, and waits until `/ready` answers 200.
 * `allowWrite`: a directory it may write (the token store's).
 */
export async function startGatewayProcess(
  configPath: string,
  port: number,
  logFile: string,
  allowWrite?: string,
): Promise<GatewayProcess> {
  const write = allowWrite === undefined ? [] : [`--allow-write=${allowWrite}`];
  const proc = await spawnLogged(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-env", "--allow-read", ...write, "main.ts"],
    cwd: ROOT,
    env: { AOT_CONFIG_PATH: configPath },
    logFile,
  });
  const state = { exited: false, command: "gateway (main.ts)", logTail: () => proc.logTail() };
  proc.status.then(() => state.exited = true);
  await waitForPort(port, 60_000, state);
  const deadline = Date.now() + 30_000;
  while (true) {
    const res = await fetch(`http://127.0.0.1:${port}/ready`).catch(() => undefined);
    await res?.body?.cancel();
    if (res?.status === 200) break;
    if (Date.now() > deadline) throw new Error(`gateway on ${port} never became ready`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { proc, hostPort: `127.0.0.1:${port}` };
}
