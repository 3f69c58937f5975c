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
import { connectionIds } from "./connections.ts";
import { startIngress } from "./ingress.ts";
import { MissingBinaryError } from "../tests/support/system.ts";

function print(text: string): void {
  // deno-lint-ignore no-console
  console.log(text);
}

/** A load result with the server's CPU time per request and the connections it accepted. */
type Measured = LoadResult & { readonly cpuUs: number; readonly connsPer100?: number };

/** What one load run targets: where requests go, whose CPU counts, whose connections count. */
interface Target {
  /** The port loaded (the server's, or the ingress's in front of it). */
  readonly port: number;
  /** The processes whose CPU time is measured. */
  readonly pids: readonly number[];
  /** Auth-server ports whose new connections are counted (ingress cases). */
  readonly countPorts?: readonly number[];
}

/** What every run of a case sends. */
interface Requests {
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly authorizationsFile?: string;
}

const cpuOf = (pids: readonly number[]) => pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);

async function load(
  driver: LoadDriver,
  target: Target,
  requests: Requests,
  options: BenchOptions,
  seconds = options.duration,
): Promise<Measured> {
  const connsBefore = target.countPorts && await connectionIds(target.countPorts);
  const cpuBefore = cpuOf(target.pids);
  const result = await driver({
    host: "127.0.0.1",
    port: target.port,
    path: requests.path,
    headers: requests.headers,
    authorizationsFile: requests.authorizationsFile,
    connections: options.connections,
    durationS: seconds,
  });
  const cpuUs = (cpuOf(target.pids) - cpuBefore) * 1e6 / result.requests;
  const after = connsBefore && await connectionIds(target.countPorts!);
  if (!connsBefore || !after) return { ...result, cpuUs };
  const opened = [...after].filter((id) => !connsBefore.has(id)).length;
  return { ...result, cpuUs, connsPer100: opened * 100 / result.requests };
}

async function checkStatus(
  url: string,
  headers: Record<string, string>,
  benchCase: BenchCase,
): Promise<void> {
  const res = await fetch(url, { headers });
  await res.body?.cancel();
  // Through an ingress the backend answers; directly, a 200 carries the JWT.
  const issued = benchCase.ingress !== undefined ||
    (res.headers.get("authorization")?.startsWith("Bearer ") ?? false);
  if (res.status !== benchCase.status || (benchCase.status === 200 && !issued)) {
    throw new Error(`case ${benchCase.name}: expected ${benchCase.status}, got ${res.status}`);
  }
}

/** The gateway on the case's config in `dir` (metrics on `metricsPort` when given). */
function startCaseGateway(
  benchCase: BenchCase,
  fixtures: Fixtures,
  dir: string,
  metricsPort?: number,
): Promise<Server> {
  const port = freePort();
  const yaml = gatewayYaml(
    port,
    benchCase.config(fixtures, dir),
    storeSection(benchCase.name, dir),
    metricsPort,
  );
  return startGateway(yaml, dir, port);
}

/** The decision cache's hit and miss counts from the gateway's `/metrics`. */
async function cacheCounts(metricsPort: number): Promise<{ hit: number; miss: number }> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const count = (result: string) =>
    Number(
      new RegExp(`^authotron_decision_cache_requests_total\\{result="${result}"\\} (\\S+)$`, "m")
        .exec(text)?.[1] ?? 0,
    );
  return { hit: count("hit"), miss: count("miss") };
}

/** The processes of one case: what is loaded, and its reference. */
interface CaseSetup extends AsyncDisposable {
  readonly target: Target;
  readonly reference: Target;
  /** Where the status check goes (the gateway, or the ingress in front of it). */
  readonly checkUrl: string;
  /** The gateway's base URL (for `prepare`). */
  readonly gatewayUrl: string;
  /** The gateway's peak RSS (the first process's). */
  peakRss(): number;
  /** The gateway's metrics port, when the case reads its hit rate. */
  readonly metricsPort?: number;
}

async function setUpCase(
  benchCase: BenchCase,
  baseline: Server,
  fixtures: Fixtures,
  dir: string,
): Promise<CaseSetup> {
  const stack = new AsyncDisposableStack();
  try {
    if (benchCase.reference !== undefined) {
      const server = stack.use(await startBaseline(benchCase.reference));
      const url = `http://127.0.0.1:${server.port}`;
      return {
        target: { port: server.port, pids: [server.pid] },
        reference: { port: baseline.port, pids: [baseline.pid] },
        checkUrl: url + benchCase.path,
        gatewayUrl: url,
        peakRss: () => memoryOf(server.pid).hwm,
        [Symbol.asyncDispose]: () => stack.disposeAsync(),
      };
    }
    const metricsPort = benchCase.hitRate ? freePort() : undefined;
    const gateways: Server[] = [];
    for (let i = 0; i < (benchCase.processes ?? 1); i++) {
      const sub = `${dir}/gateway${i}`;
      await Deno.mkdir(sub);
      gateways.push(stack.use(await startCaseGateway(benchCase, fixtures, sub, metricsPort)));
    }
    const gatewayUrl = `http://127.0.0.1:${gateways[0]!.port}`;
    const peakRss = () => memoryOf(gateways[0]!.pid).hwm;
    const pids = gateways.map((g) => g.pid);
    if (benchCase.ingress === undefined) {
      return {
        target: { port: gateways[0]!.port, pids },
        reference: { port: baseline.port, pids: [baseline.pid] },
        checkUrl: gatewayUrl + benchCase.path,
        gatewayUrl,
        peakRss,
        metricsPort,
        [Symbol.asyncDispose]: () => stack.disposeAsync(),
      };
    }
    // The ingress in front of the gateway(s), and the same ingress in front of a bare auth server.
    const backend = stack.use(await startBaseline());
    const bareAuth = stack.use(await startBaseline());
    const hostPort = (s: Server) => `127.0.0.1:${s.port}`;
    const ingress = stack.use(
      await startIngress(benchCase.ingress, gateways.map(hostPort), hostPort(backend)),
    );
    const referenceIngress = stack.use(
      await startIngress(benchCase.ingress, [hostPort(bareAuth)], hostPort(backend)),
    );
    return {
      target: { port: ingress.port, pids, countPorts: gateways.map((g) => g.port) },
      reference: {
        port: referenceIngress.port,
        pids: [bareAuth.pid],
        countPorts: [bareAuth.port],
      },
      checkUrl: `http://127.0.0.1:${ingress.port}${benchCase.path}`,
      gatewayUrl,
      peakRss,
      metricsPort,
      [Symbol.asyncDispose]: () => stack.disposeAsync(),
    };
  } catch (error) {
    await stack.disposeAsync();
    throw error;
  }
}

/** The case's row and, for an ingress case, its reference's row. */
async function runCase(
  benchCase: BenchCase,
  baseline: Server,
  driver: LoadDriver,
  fixtures: Fixtures,
  options: BenchOptions,
  baselineRuns: Measured[],
): Promise<Row[]> {
  const dir = await Deno.makeTempDir({ prefix: "aot-bench-" });
  try {
    await using setup = await setUpCase(benchCase, baseline, fixtures, dir);
    const headers = await benchCase.prepare(setup.gatewayUrl, fixtures);
    await checkStatus(setup.checkUrl, headers, benchCase);
    let requests: Requests = { path: benchCase.path, headers };
    if (benchCase.distinct !== undefined) {
      const values = await benchCase.distinct(fixtures);
      const file = `${dir}/authorizations.txt`;
      await Deno.writeTextFile(file, values.join("\n") + "\n");
      await checkStatus(setup.checkUrl, { authorization: values.at(-1)! }, benchCase);
      const { authorization: _, ...others } = headers;
      requests = { path: benchCase.path, headers: others, authorizationsFile: file };
    }
    await load(driver, setup.reference, requests, options, options.warmup);
    await load(driver, setup.target, requests, options, options.warmup);
    const runs: Measured[] = [];
    const bases: Measured[] = [];
    const hits = { hit: 0, miss: 0 };
    for (let round = 0; round < options.rounds; round++) {
      bases.push(await load(driver, setup.reference, requests, options));
      const before = setup.metricsPort && await cacheCounts(setup.metricsPort);
      runs.push(await load(driver, setup.target, requests, options));
      if (before && setup.metricsPort) {
        const after = await cacheCounts(setup.metricsPort);
        hits.hit += after.hit - before.hit;
        hits.miss += after.miss - before.miss;
      }
    }
    await checkStatus(setup.checkUrl, headers, benchCase);
    const connsPer100 = (r: Measured[]) =>
      r[0]?.connsPer100 === undefined ? undefined : median(r.map((m) => m.connsPer100!));
    const rows: Row[] = [];
    if (benchCase.ingress !== undefined) {
      rows.push({
        name: `${benchCase.name}-ref`,
        path: `${benchCase.ingress} -> bare auth server`,
        reference: true,
        rps: median(bases.map((r) => r.rps)),
        p50: median(bases.map((r) => r.p50)),
        p99: median(bases.map((r) => r.p99)),
        cpuUs: median(bases.map((r) => r.cpuUs)),
        connsPer100: connsPer100(bases),
        peakRss: 0,
        ratio: 1,
        rounds: { rps: bases.map((r) => Math.round(r.rps)), baselineRps: [] },
      });
    } else {
      baselineRuns.push(...bases);
    }
    rows.push({
      name: benchCase.name,
      path: benchCase.reference !== undefined
        ? "headers, no decision"
        : benchCase.ingress !== undefined
        ? `${benchCase.ingress} -> gateway${
          (benchCase.processes ?? 1) > 1 ? ` x${benchCase.processes}` : ""
        }`
        : benchCase.path,
      rps: median(runs.map((r) => r.rps)),
      p50: median(runs.map((r) => r.p50)),
      p99: median(runs.map((r) => r.p99)),
      cpuUs: median(runs.map((r) => r.cpuUs)),
      connsPer100: connsPer100(runs),
      hitRate: hits.hit + hits.miss > 0 ? hits.hit / (hits.hit + hits.miss) : undefined,
      peakRss: setup.peakRss(),
      // Each round pairs a reference run with the case run right after it; the
      // median of the pairs' ratios shrugs off a round the shared machine stalled.
      ratio: median(runs.map((r, i) => r.rps / bases[i]!.rps)),
      rounds: {
        rps: runs.map((r) => Math.round(r.rps)),
        baselineRps: bases.map((r) => Math.round(r.rps)),
      },
    });
    return rows;
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
      const caseRows = await runCase(benchCase, baseline, driver, idp, options, baselineRuns);
      rows.push(...caseRows);
      const row = caseRows.at(-1)!;
      print(`case ${benchCase.name}: ${Math.round(row.rps)} req/s, ratio ${row.ratio.toFixed(2)}`);
    } catch (error) {
      if (error instanceof MissingBinaryError) {
        skipped.push({ name: benchCase.name, reason: error.message });
        print(`case ${benchCase.name}: skipped (${error.message})`);
        continue;
      }
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
