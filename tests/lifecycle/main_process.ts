/**
 * Runs `main.ts` as a real process for lifecycle tests: the command, and a
 * running child whose stdout is read until a log event appears.
 *
 * @module
 */

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const ROOT = new URL("../../", import.meta.url).pathname;

/** `deno run <flags> main.ts ...args` from the repository root, output piped. */
export function mainCommand(args: string[], env: Record<string, string> = {}): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-env", "--allow-read", "--allow-write", MAIN, ...args],
    env: { NO_COLOR: "1", ...env },
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  });
}

/** A running `main.ts`. */
export interface RunningMain {
  /** Everything read from stdout so far (after {@link stop}: everything). */
  readonly output: string;
  /** Sends `signal` (e.g. `SIGHUP`) to the process. */
  signal(signal: Deno.Signal): void;
  /** Sends SIGTERM, drains stdout and stderr, and returns the exit code. */
  stop(): Promise<number>;
}

/** Spawns `main.ts` and reads stdout until a line contains `event` (or stdout ends). */
export async function startMain(
  args: string[],
  env: Record<string, string>,
  event: string,
): Promise<RunningMain> {
  const child = mainCommand(args, env).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let output = "";
  while (!output.includes(event)) {
    const { value, done } = await reader.read();
    if (done) break;
    output += value;
  }
  return {
    get output() {
      return output;
    },
    signal(signal) {
      child.kill(signal);
    },
    async stop() {
      child.kill("SIGTERM");
      while (true) {
        const { value, done } = await reader.read();
        if (done) break;
        output += value;
      }
      await child.stderr.cancel();
      return (await child.status).code;
    },
  };
}
