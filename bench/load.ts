/**
 * Drives load from a separate process: `wrk` when installed, else the
 * built-in generator (`bench/loadgen.ts` in its own Deno process). Both
 * report requests/s, p50 and p99 the same way.
 *
 * @module
 */

import type { LoadResult, LoadSpec } from "./loadgen.ts";

export type { LoadResult, LoadSpec } from "./loadgen.ts";

/** Runs one load and returns what it measured. */
export type LoadDriver = (spec: LoadSpec, onProgress?: (done: number) => void) => Promise<
  LoadResult
>;

const LOADGEN = new URL("./loadgen.ts", import.meta.url).pathname;

/** True when `wrk` is on the PATH. */
export async function hasWrk(): Promise<boolean> {
  try {
    const { code } = await new Deno.Command("wrk", { args: ["--version"], stdout: "null" })
      .output();
    return code === 0 || code === 1; // wrk --version exits 1 after printing its version
  } catch {
    return false;
  }
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

function latencyMs(text: string, percent: string): number {
  const match = new RegExp(`^\\s*${percent}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, "m").exec(text);
  return match ? Number(match[1]) * UNIT_MS[match[2]!]! : NaN;
}

/** Parses `wrk --latency` output. */
export function parseWrk(text: string): LoadResult {
  const requests = Number(/(\d+) requests in ([\d.]+)(ms|s|m)/.exec(text)?.[1] ?? NaN);
  const seconds = /(\d+) requests in ([\d.]+)(ms|s|m)/.exec(text);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const errors = socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0;
  return {
    requests,
    statuses: non2xx > 0 ? { "non-2xx/3xx": non2xx } : {},
    errors,
    seconds: seconds ? Number(seconds[2]) * UNIT_MS[seconds[3]!]! / 1000 : NaN,
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? NaN),
    p50: latencyMs(text, "50"),
    p99: latencyMs(text, "99"),
  };
}

/**
 * A wrk script sending one `Authorization` value per request, picked uniformly
 * at random from `file` (one per line); the requests are formatted once.
 */
export function wrkScript(file: string): string {
  return `local values = {}
for line in io.lines(${JSON.stringify(file)}) do
  if #line > 0 then values[#values + 1] = line end
end
local requests = nil
function init(args)
  math.randomseed(os.time() + os.clock() * 1000000)
end
function request()
  if requests == nil then
    requests = {}
    for i, value in ipairs(values) do
      local headers = {}
      for name, v in pairs(wrk.headers) do headers[name] = v end
      headers["Authorization"] = value
      requests[i] = wrk.format(nil, nil, headers)
    end
  end
  return requests[math.random(#requests)]
end
`;
}

/** Load from `wrk -t1` (one thread: the server keeps the other core). */
export const wrkDriver: LoadDriver = async (spec) => {
  if (spec.flood || spec.durationS === undefined) throw new Error("wrk runs by duration only");
  const args = [
    "-t1",
    `-c${spec.connections}`,
    `-d${Math.max(1, Math.round(spec.durationS))}s`,
    "--latency",
  ];
  for (const [name, value] of Object.entries(spec.headers)) args.push("-H", `${name}: ${value}`);
  let script: string | undefined;
  if (spec.authorizationsFile !== undefined) {
    script = await Deno.makeTempFile({ prefix: "aot-bench-", suffix: ".lua" });
    await Deno.writeTextFile(script, wrkScript(spec.authorizationsFile));
    args.push("-s", script);
  }
  args.push(`http://${spec.host}:${spec.port}${spec.path}`);
  const out = await new Deno.Command("wrk", { args, stdout: "piped", stderr: "piped" }).output()
    .finally(() => script && Deno.remove(script));
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(`wrk failed: ${new TextDecoder().decode(out.stderr).trim() || text}`);
  }
  return parseWrk(text);
};

/** Load from the built-in generator in its own process. */
export const builtinDriver: LoadDriver = async (spec, onProgress) => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", LOADGEN, JSON.stringify(spec)],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  let result: LoadResult | undefined;
  let pending = "";
  for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
    pending += chunk;
    let nl;
    while ((nl = pending.indexOf("\n")) >= 0) {
      const message = JSON.parse(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
      if (typeof message.progress === "number") onProgress?.(message.progress);
      if (message.result) result = message.result;
    }
  }
  const status = await child.status;
  if (!status.success || result === undefined) {
    throw new Error(`load generator failed (exit ${status.code})`);
  }
  return result;
};
