/**
 * The processes under test: the bare baseline server and the gateway
 * (`main.ts` on a generated config in a temp dir), each its own process,
 * plus their memory from `/proc/<pid>/status`.
 *
 * @module
 */

/** The repository root (bench/..). */
export const ROOT = new URL("../", import.meta.url).pathname;

/** A server process under load. */
export interface Server extends AsyncDisposable {
  /** Its port on 127.0.0.1. */
  readonly port: number;
  /** Its process id. */
  readonly pid: number;
}

/** Resident and peak resident memory of a process, in bytes (0 when unknown). */
export interface Memory {
  /** VmRSS. */
  readonly rss: number;
  /** VmHWM (peak RSS). */
  readonly hwm: number;
}

/** Reads VmRSS and VmHWM of `pid`. */
export function memoryOf(pid: number): Memory {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const kib = (name: string) =>
      Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0) * 1024;
    return { rss: kib("VmRSS"), hwm: kib("VmHWM") };
  } catch {
    return { rss: 0, hwm: 0 };
  }
}

/** CPU seconds (user + system) used so far by `pid`, from `/proc/<pid>/stat` (NaN when unknown). */
export function cpuSeconds(pid: number): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // Fields 14 and 15 of stat(5) (utime, stime) in clock ticks; Linux uses 100 per second.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/** A port that was free a moment ago. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

async function stop(child: Deno.ChildProcess): Promise<void> {
  try {
    child.kill("SIGTERM");
  } catch {
    // already gone
  }
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }, 5000);
  await child.status;
  clearTimeout(timer);
}

/** Starts `bench/baseline_server.ts` (`bare`, the baseline, or `floor`) and waits for its port. */
export async function startBaseline(mode: "bare" | "floor" = "bare"): Promise<Server> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", new URL("./baseline_server.ts", import.meta.url).pathname, mode],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`${mode} reference server exited before listening`);
    text += value;
  }
  reader.releaseLock();
  child.stdout.cancel().catch(() => {});
  return {
    port: Number(text.trim()),
    pid: child.pid,
    [Symbol.asyncDispose]: () => stop(child),
  };
}

/** Starts the gateway (`main.ts`) on `yaml`, written to `dir/config.yaml`, and waits for `/health`. */
export async function startGateway(yaml: string, dir: string, port: number): Promise<Server> {
  const path = `${dir}/config.yaml`;
  await Deno.writeTextFile(path, yaml);
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      `--allow-write=${dir}`,
      "main.ts",
    ],
    cwd: ROOT,
    env: { AOT_CONFIG_PATH: path },
    clearEnv: false,
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr: string[] = [];
  const drained = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      if (stderr.join("").length < 8192) stderr.push(chunk);
    }
  })();
  const exited = child.status.then(() => true);
  const deadline = Date.now() + 60_000;
  while (true) {
    if (await Promise.race([exited, new Promise((r) => setTimeout(() => r(false), 100))])) {
      await drained;
      throw new Error(`gateway exited: ${stderr.join("").trim()}`);
    }
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health`);
      await res.body?.cancel();
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop(child);
      throw new Error("gateway did not answer /health within 60 s");
    }
  }
  return {
    port,
    pid: child.pid,
    async [Symbol.asyncDispose]() {
      await stop(child);
      await drained;
    },
  };
}
