/**
 * Command-line options of `deno task bench`.
 *
 * @module
 */

/** Everything `bench/run.ts` can be told. */
export interface BenchOptions {
  /** Seconds of load per measured run. */
  readonly duration: number;
  /** Seconds of warm-up load before a case's rounds (baseline and gateway). */
  readonly warmup: number;
  /** Concurrent keep-alive connections. */
  readonly connections: number;
  /** Rounds per case; each round measures the baseline, then the gateway. */
  readonly rounds: number;
  /** Only these cases (default: all). */
  readonly cases: readonly string[] | undefined;
  /** Use the built-in load generator even when `wrk` is installed. */
  readonly builtin: boolean;
  /** Write the results as JSON to this file (`--json` picks `bench/results/<timestamp>.json`). */
  readonly out: string | undefined;
  /** Flood mode instead of the table. */
  readonly flood: boolean;
  /** Requests sent in flood mode. */
  readonly floodRequests: number;
  /** Print the help and exit. */
  readonly help: boolean;
}

/** The help text. */
export const HELP = `deno task bench [options]

Measures the gateway against a bare Deno.serve (the runtime's limit on this
machine) and prints requests/s, p50, p99, CPU µs per request, peak RSS and the
ratio of each case to its reference: the bare server for direct cases, the
same ingress (nginx, caddy: the shipped example configs) in front of a bare
auth server for the ingress cases, which also report new connections per 100
requests. Load comes from wrk when installed, else from a built-in
load generator (a separate Deno process).

Options:
  --duration <s>      seconds per measured run (default 3)
  --warmup <s>        warm-up seconds per case (default 2)
  --connections <n>   concurrent connections (default 50)
  --rounds <n>        rounds per case, alternating baseline and gateway (default 5)
  --case <name>       run only this case (repeatable): floor, basic, jwt, store,
                      basic-cold, many-users, many-users-warm, jwt-cold, nginx,
                      nginx-x2, caddy, unauthorized
  --builtin           use the built-in load generator even when wrk is installed
  --json              also write bench/results/<timestamp>.json
  --out <file>        also write the JSON results to <file>
  --flood             flood mode: distinct garbage credentials and kids, RSS over time
  --requests <n>      requests in flood mode (default 1000000)
  -h, --help          this text
`;

/** Thrown for a bad command line. */
export class UsageError extends Error {
  /** Names this error. */
  override readonly name = "UsageError";
}

function positive(name: string, raw: string | undefined): number {
  const value = Number(raw);
  if (raw === undefined || !Number.isFinite(value) || value <= 0) {
    throw new UsageError(`${name} needs a positive number, got ${raw ?? "nothing"}`);
  }
  return value;
}

/** Parses `args` (as in `Deno.args`). */
export function parseOptions(args: readonly string[]): BenchOptions {
  const options = {
    duration: 3,
    warmup: 2,
    connections: 50,
    rounds: 5,
    cases: undefined as string[] | undefined,
    builtin: false,
    out: undefined as string | undefined,
    flood: false,
    floodRequests: 1_000_000,
    help: false,
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const next = () => args[++i];
    switch (arg) {
      case "--duration":
        options.duration = positive(arg, next());
        break;
      case "--warmup":
        options.warmup = positive(arg, next());
        break;
      case "--connections":
        options.connections = Math.ceil(positive(arg, next()));
        break;
      case "--rounds":
        options.rounds = Math.ceil(positive(arg, next()));
        break;
      case "--case": {
        const name = next();
        if (name === undefined) throw new UsageError("--case needs a name");
        (options.cases ??= []).push(name);
        break;
      }
      case "--builtin":
        options.builtin = true;
        break;
      case "--json":
        options.out ??= `bench/results/${new Date().toISOString().replace(/[:.]/g, "-")}.json`;
        break;
      case "--out":
        options.out = next() ?? (() => {
          throw new UsageError("--out needs a file");
        })();
        break;
      case "--flood":
        options.flood = true;
        break;
      case "--requests":
        options.floodRequests = Math.ceil(positive(arg, next()));
        break;
      case "-h":
      case "--help":
        options.help = true;
        break;
      default:
        throw new UsageError(`unknown option ${arg} (see --help)`);
    }
  }
  return options;
}
