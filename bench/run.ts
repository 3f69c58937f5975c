/**
 * `deno task bench`: the gateway against a bare `Deno.serve`, in one run, as
 * separate processes, under the same load from a third process. See
 * `--help` and the README's Performance section.
 *
 * @module
 */

import {
  type BenchCase,
  CASES,
  type Fixtures,
  gatewayYaml,
  missing,
  SkipCase,
  startIdentityProvider,
  storeSection,
} from "./cases.ts";
import { runFlood } from "./flood.ts";
import { builtinDriver, hasWrk, type LoadDriver, type LoadResult } from "./load.ts";
import { type BenchOptions, HELP, parseOptions, UsageError } from "./options.ts";
import {
  cpuSeconds,
  freePort,
  memoryOf,
  type Server,
  startBaseline,
  startGateway,
} from "./procs.ts";
import { formatReport, loadavg, median, type Report, type Row } from "./report.ts";
import { wrkDriver } from "./load.ts";

function print(text: string): void {
  // deno-lint-ignore no-console
  console.log(text);
}

/** A load result with the server's CPU time per request. */
type Measured = LoadResult & { readonly cpuUs: number };

async function load(
  driver: LoadDriver,
  server: Server,
  path: string,
  headers: Record<string, string>,
  options: BenchOptions,
  seconds = options.duration,
): Promise<Measured> {
  const cpuBefore = cpuSeconds(server.pid);
  const result = await driver({
    host: "127.0.0.1",
    port: server.port,
    path,
    headers,
    connections: options.connections,
    durationS: seconds,
  });
  const cpuUs = (cpuSeconds(server.pid) - cpuBefore) * 1e6 / result.requests;
  return { ...result, cpuUs };
}

async function checkStatus(
  url: string,
  headers: Record<string, string>,
  benchCase: BenchCase,
): Promise<void> {
  const res = await fetch(url, { headers });
  await res.body?.cancel();
  const issued = res.headers.get("authorization")?.startsWith("Bearer ") ?? false;
  if (res.status !== benchCase.status || (benchCase.status === 200 && !issued)) {
    throw new Error(`case ${benchCase.name}: expected ${benchCase.status}, got ${res.status}`);
  }
}

/** The server a case loads: a reference server, or the gateway on the case's config in `dir`. */
function startCaseServer(benchCase: BenchCase, fixtures: Fixtures, dir: string): Promise<Server> {
  if (benchCase.reference !== undefined) return startBaseline(benchCase.reference);
  const port = freePort();
  const yaml = gatewayYaml(
    port,
    benchCase.config(fixtures, dir),
    storeSection(benchCase.name, dir),
  );
  return startGateway(yaml, dir, port);
}

async function runCase(
  benchCase: BenchCase,
  baseline: Server,
  driver: LoadDriver,
  fixtures: Fixtures,
  options: BenchOptions,
  baselineRuns: Measured[],
): Promise<Row> {
  const dir = await Deno.makeTempDir({ prefix: "aot-bench-" });
  try {
    await using gateway = await startCaseServer(benchCase, fixtures, dir);
    const base = `http://127.0.0.1:${gateway.port}`;
    const headers = await benchCase.prepare(base, fixtures);
    await checkStatus(base + benchCase.path, headers, benchCase);
    await load(driver, baseline, benchCase.path, headers, options, options.warmup);
    await load(driver, gateway, benchCase.path, headers, options, options.warmup);
    const runs: Measured[] = [];
    const bases: Measured[] = [];
    for (let round = 0; round < options.rounds; round++) {
      bases.push(await load(driver, baseline, benchCase.path, headers, options));
      runs.push(await load(driver, gateway, benchCase.path, headers, options));
    }
    await checkStatus(base + benchCase.path, headers, benchCase);
    baselineRuns.push(...bases);
    return {
      name: benchCase.name,
      path: benchCase.reference === undefined ? benchCase.path : "headers, no decision",
      rps: median(runs.map((r) => r.rps)),
      p50: median(runs.map((r) => r.p50)),
      p99: median(runs.map((r) => r.p99)),
      cpuUs: median(runs.map((r) => r.cpuUs)),
      peakRss: memoryOf(gateway.pid).hwm,
      // Each round pairs a baseline run with the case run right after it; the
      // median of the pairs' ratios shrugs off a round the shared machine stalled.
      ratio: median(runs.map((r, i) => r.rps / bases[i]!.rps)),
      rounds: {
        rps: runs.map((r) => Math.round(r.rps)),
        baselineRps: bases.map((r) => Math.round(r.rps)),
      },
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function main(args: string[]): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseOptions(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    print(`${error.message}\n\n${HELP}`);
    return 2;
  }
  if (options.help) {
    print(HELP);
    return 0;
  }
  if (options.flood) return await runFlood(options, print);
  let driver: LoadDriver = wrkDriver;
  let generator: Report["loadGenerator"] = "wrk";
  if (options.builtin || !(await hasWrk())) {
    if (!options.builtin) {
      print("wrk not installed (apt-get install wrk); using the built-in load generator");
    }
    driver = builtinDriver;
    generator = "builtin";
  }
  const selected = CASES.filter((c) =>
    options.cases === undefined || options.cases.includes(c.name)
  );
  const unknown = options.cases?.filter((name) => !CASES.some((c) => c.name === name)) ?? [];
  if (unknown.length > 0) {
    print(`unknown case ${unknown.join(", ")} (cases: ${CASES.map((c) => c.name).join(", ")})`);
    return 2;
  }
  const loadBefore = loadavg();
  await using idp = await startIdentityProvider();
  await using baseline = await startBaseline();
  const rows: Row[] = [];
  const skipped: Report["skipped"] = [];
  const baselineRuns: Measured[] = [];
  for (const benchCase of selected) {
    const reason = missing(benchCase);
    if (reason !== undefined) {
      skipped.push({ name: benchCase.name, reason });
      print(`case ${benchCase.name}: skipped (${reason})`);
      continue;
    }
    print(`case ${benchCase.name}: running`);
    try {
      const row = await runCase(benchCase, baseline, driver, idp, options, baselineRuns);
      rows.push(row);
      print(`case ${benchCase.name}: ${Math.round(row.rps)} req/s, ratio ${row.ratio.toFixed(2)}`);
    } catch (error) {
      if (!(error instanceof SkipCase)) throw error;
      skipped.push({ name: benchCase.name, reason: error.message });
      print(`case ${benchCase.name}: skipped (${error.message})`);
    }
  }
  if (baselineRuns.length > 0) {
    rows.unshift({
      name: "baseline",
      path: "bare Deno.serve",
      rps: median(baselineRuns.map((r) => r.rps)),
      p50: median(baselineRuns.map((r) => r.p50)),
      p99: median(baselineRuns.map((r) => r.p99)),
      cpuUs: median(baselineRuns.map((r) => r.cpuUs)),
      peakRss: memoryOf(baseline.pid).hwm,
      ratio: 1,
      rounds: { rps: [], baselineRps: baselineRuns.map((r) => Math.round(r.rps)) },
    });
  }
  const report: Report = {
    date: new Date().toISOString(),
    loadGenerator: generator,
    settings: {
      connections: options.connections,
      duration: options.duration,
      warmup: options.warmup,
      rounds: options.rounds,
    },
    machine: {
      cpus: navigator.hardwareConcurrency,
      loadavgBefore: loadBefore,
      loadavgAfter: loadavg(),
      deno: Deno.version.deno,
    },
    rows,
    skipped,
  };
  print("\n" + formatReport(report));
  if (options.out !== undefined) {
    await Deno.mkdir(new URL(".", new URL(options.out, `file://${Deno.cwd()}/`)), {
      recursive: true,
    });
    await Deno.writeTextFile(options.out, JSON.stringify(report, null, 2) + "\n");
    print(`\nwrote ${options.out}`);
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
