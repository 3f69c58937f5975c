/**
 * The benchmark's table, ratio lines and JSON.
 *
 * @module
 */

/** One row of the table. */
export interface Row {
  /** Case name (`baseline` for the bare server). */
  readonly name: string;
  /** Route loaded. */
  readonly path: string;
  /** Mean requests/s over the rounds. */
  readonly rps: number;
  /** Median over the rounds of the p50 latency, ms. */
  readonly p50: number;
  /** Median over the rounds of the p99 latency, ms. */
  readonly p99: number;
  /** CPU time of the server process per request, µs (robust to other load on the machine). */
  readonly cpuUs: number;
  /** Peak RSS of the server process, bytes. */
  readonly peakRss: number;
  /** Gateway requests/s over the baseline's in the same rounds (1 for the baseline). */
  readonly ratio: number;
  /** A reference row (an ingress in front of a bare auth server): no ratio line. */
  readonly reference?: boolean;
  /** New TCP connections to the auth server(s) per 100 requests (ingress cases). */
  readonly connsPer100?: number;
  /** Share of requests answered from the decision cache (cases that read it). */
  readonly hitRate?: number;
  /** Requests/s of each round (gateway), then of the interleaved baseline runs. */
  readonly rounds: { readonly rps: number[]; readonly baselineRps: number[] };
}

/** Everything one run measured. */
export interface Report {
  /** ISO timestamp. */
  readonly date: string;
  /** Load generator used. */
  readonly loadGenerator: "wrk" | "builtin";
  /** Run settings. */
  readonly settings: {
    readonly connections: number;
    readonly duration: number;
    readonly warmup: number;
    readonly rounds: number;
  };
  /** Machine facts. */
  readonly machine: {
    readonly cpus: number;
    readonly loadavgBefore: string;
    readonly loadavgAfter: string;
    readonly deno: string;
  };
  /** Baseline first, then the cases that ran. */
  readonly rows: Row[];
  /** Cases skipped and why. */
  readonly skipped: { readonly name: string; readonly reason: string }[];
}

/** `/proc/loadavg`'s first three fields. */
export function loadavg(): string {
  try {
    return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
  } catch {
    return "unknown";
  }
}

/** The median of `values`. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Bytes as MiB with one decimal. */
export function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}

/** The ratio line of a case, e.g. `basic /authenticate ratio 0.62`. */
export function ratioLine(row: Row): string {
  return `${row.name} ${row.path} ratio ${row.ratio.toFixed(2)}`;
}

/** The table and the ratio lines. */
export function formatReport(report: Report): string {
  const head = [
    "case",
    "route",
    "req/s",
    "p50 ms",
    "p99 ms",
    "CPU µs/req",
    "peak RSS",
    "new conn/100 req",
    "cache hits",
    "ratio",
  ];
  const cells = report.rows.map((r) => [
    r.name,
    r.path,
    Math.round(r.rps).toLocaleString("en-US"),
    r.p50.toFixed(2),
    r.p99.toFixed(2),
    r.cpuUs.toFixed(1),
    r.peakRss > 0 ? mib(r.peakRss) : "—",
    r.connsPer100 === undefined ? "—" : r.connsPer100.toFixed(2),
    r.hitRate === undefined ? "—" : `${(r.hitRate * 100).toFixed(0)}%`,
    r.ratio.toFixed(2),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) =>
    "| " + c.map((v, i) => i < 2 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!)).join(" | ") +
    " |";
  const sep = "|" + widths.map((w, i) => i < 2 ? "-".repeat(w + 2) : "-".repeat(w + 1) + ":")
    .join("|") +
    "|";
  const { settings, machine } = report;
  return [
    `load: ${report.loadGenerator}, ${settings.connections} connections, ${settings.rounds} rounds of ${settings.duration} s per server (warm-up ${settings.warmup} s), ${machine.cpus} CPUs, deno ${machine.deno}, loadavg ${machine.loadavgBefore} -> ${machine.loadavgAfter}`,
    "",
    line(head),
    sep,
    ...cells.map(line),
    "",
    ...report.rows.filter((r) => r.name !== "baseline" && !r.reference).map(ratioLine),
    ...report.skipped.map((s) => `case ${s.name}: skipped (${s.reason})`),
  ].join("\n");
}
