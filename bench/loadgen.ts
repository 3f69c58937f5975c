/**
 * The built-in load generator, run as its own process: keep-alive HTTP/1.1
 * connections over raw TCP (less client overhead than `fetch`), each sending
 * one request at a time. Its only argument is a JSON {@link LoadSpec}; it
 * prints JSON lines: `{"progress":n}` about once a second and finally
 * `{"result":{…}}` ({@link LoadResult}).
 *
 * @module
 */

import { LatencyHistogram } from "./latency.ts";

/** What to send. */
export interface LoadSpec {
  /** Target host (127.0.0.1). */
  readonly host: string;
  /** Target port. */
  readonly port: number;
  /** Request path, e.g. `/authenticate`. */
  readonly path: string;
  /** Concurrent connections. */
  readonly connections: number;
  /** Stop after this many seconds… */
  readonly durationS?: number;
  /** …or after this many requests. */
  readonly requests?: number;
  /** Headers of every request. */
  readonly headers: Readonly<Record<string, string>>;
  /** Flood mode: each request carries a distinct garbage credential (and JWT `kid`). */
  readonly flood?: boolean;
  /**
   * A file of `Authorization` values, one per line: each request carries one
   * picked uniformly at random (a file, not a list: 10,000 values do not fit
   * in a command-line argument).
   */
  readonly authorizationsFile?: string;
}

/** What was measured. */
export interface LoadResult {
  /** Completed requests. */
  readonly requests: number;
  /** Responses by status code. */
  readonly statuses: Readonly<Record<string, number>>;
  /** Connection errors. */
  readonly errors: number;
  /** Measured seconds. */
  readonly seconds: number;
  /** Requests per second. */
  readonly rps: number;
  /** Median latency, ms. */
  readonly p50: number;
  /** 99th percentile latency, ms. */
  readonly p99: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("latin1");
const HEAD_END = encoder.encode("\r\n\r\n");
const CHUNKED_END = encoder.encode("\r\n0\r\n\r\n");

function indexOf(buf: Uint8Array, length: number, needle: Uint8Array, from = 0): number {
  outer: for (let i = from; i <= length - needle.length; i++) {
    for (let j = 0; j < needle.length; j++) if (buf[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

function b64url(text: string | Uint8Array): string {
  const bytes = typeof text === "string" ? encoder.encode(text) : text;
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_")
    .replace(/=+$/, "");
}

/** The distinct garbage credential of flood request `n`: Basic, a JWT with its own `kid`, or opaque. */
export function floodCredential(n: number): string {
  const noise = b64url(crypto.getRandomValues(new Uint8Array(12)));
  switch (n % 3) {
    case 0:
      return `Basic ${btoa(`flood-${n}:${noise}`)}`;
    case 1: {
      const header = b64url(JSON.stringify({ alg: "RS256", typ: "JWT", kid: `flood-kid-${n}` }));
      const payload = b64url(JSON.stringify({ sub: `flood-${n}`, scope: "x", exp: 4102444800 }));
      return `Bearer ${header}.${payload}.${noise}`;
    }
    default:
      return `Bearer aot_${noise}${n}`;
  }
}

function requestBytes(spec: LoadSpec, n: number, authorization?: string): Uint8Array {
  let head = `GET ${spec.path} HTTP/1.1\r\nhost: ${spec.host}:${spec.port}\r\n`;
  for (const [name, value] of Object.entries(spec.headers)) head += `${name}: ${value}\r\n`;
  if (spec.flood) head += `authorization: ${floodCredential(n)}\r\n`;
  if (authorization !== undefined) head += `authorization: ${authorization}\r\n`;
  return encoder.encode(head + "\r\n");
}

/** The lines of an `authorizationsFile`. */
export function readAuthorizations(file: string): string[] {
  return Deno.readTextFileSync(file).split("\n").filter((line) => line !== "");
}

/** Runs the load described by `spec`; `onProgress` gets the completed count about once a second. */
export async function runLoad(
  spec: LoadSpec,
  onProgress: (done: number) => void = () => {},
): Promise<LoadResult> {
  const histogram = new LatencyHistogram();
  const statuses: Record<string, number> = {};
  const distinct = spec.authorizationsFile === undefined
    ? undefined
    : readAuthorizations(spec.authorizationsFile).map((value) => requestBytes(spec, 0, value));
  const fixed = spec.flood || distinct ? undefined : requestBytes(spec, 0);
  let issued = 0;
  let errors = 0;
  const started = performance.now();
  const deadline = spec.durationS === undefined ? Infinity : started + spec.durationS * 1000;
  const limit = spec.requests ?? Infinity;
  const more = () => issued < limit && performance.now() < deadline;
  const timer = setInterval(() => onProgress(histogram.count), 1000);

  async function connection(): Promise<void> {
    const conn = await Deno.connect({ hostname: spec.host, port: spec.port });
    conn.setNoDelay(true);
    const buf = new Uint8Array(1 << 16);
    try {
      while (more()) {
        const request = fixed ??
          distinct?.[Math.floor(Math.random() * distinct.length)] ?? requestBytes(spec, issued);
        issued++;
        const t0 = performance.now();
        for (let w = 0; w < request.length;) w += await conn.write(request.subarray(w));
        let have = 0;
        let total = -1;
        let status = "";
        while (total < 0 || have < total) {
          const n = await conn.read(buf.subarray(have));
          if (n === null) throw new Error("connection closed");
          have += n;
          if (total >= 0) continue;
          const end = indexOf(buf, have, HEAD_END);
          if (end < 0) continue;
          const head = decoder.decode(buf.subarray(0, end));
          status = head.slice(9, 12);
          const length = /\r\ncontent-length: *(\d+)/i.exec(head);
          if (length) total = end + 4 + Number(length[1]);
          else if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
            const tail = indexOf(buf, have, CHUNKED_END, end);
            total = tail < 0 ? -1 : tail + CHUNKED_END.length;
            if (total < 0) continue;
          } else total = end + 4;
        }
        histogram.record(performance.now() - t0);
        statuses[status] = (statuses[status] ?? 0) + 1;
      }
    } finally {
      conn.close();
    }
  }

  const results = await Promise.allSettled(
    Array.from({ length: spec.connections }, () => connection()),
  );
  clearInterval(timer);
  errors = results.filter((r) => r.status === "rejected").length;
  const seconds = (performance.now() - started) / 1000;
  return {
    requests: histogram.count,
    statuses,
    errors,
    seconds,
    rps: histogram.count / seconds,
    p50: histogram.quantile(0.5),
    p99: histogram.quantile(0.99),
  };
}

if (import.meta.main) {
  const spec = JSON.parse(Deno.args[0] ?? "{}") as LoadSpec;
  const line = (value: unknown) =>
    Deno.stdout.writeSync(encoder.encode(JSON.stringify(value) + "\n"));
  const result = await runLoad(spec, (done) => line({ progress: done }));
  line({ result });
}
