/**
 * Flood mode: many requests, each with a distinct garbage credential (Basic,
 * JWTs with distinct `kid`s, opaque tokens), while the gateway's RSS is
 * sampled. Every cache and map in the gateway is bounded, so RSS must level
 * off; the verdict compares the second half of the run with the first.
 *
 * @module
 */

import { CASES, gatewayYaml, missing, startIdentityProvider } from "./cases.ts";
import { builtinDriver } from "./load.ts";
import type { BenchOptions } from "./options.ts";
import { freePort, memoryOf, startGateway } from "./procs.ts";
import { mib } from "./report.ts";

/** RSS growth over the second half that still counts as a plateau (bytes, or fraction). */
const PLATEAU_BYTES = 16 * 1048576;
const PLATEAU_FRACTION = 0.1;

/** Samples taken during a flood. */
export interface FloodSample {
  /** Requests completed. */
  readonly done: number;
  /** VmRSS, bytes. */
  readonly rss: number;
}

/** Whether RSS levelled off: growth from the midpoint sample to the end is small. */
export function plateauVerdict(samples: readonly FloodSample[], total: number): {
  readonly plateaued: boolean;
  readonly growth: number;
} {
  const mid = samples.find((s) => s.done >= total / 2) ?? samples[0];
  const last = samples.at(-1);
  if (mid === undefined || last === undefined) return { plateaued: false, growth: NaN };
  const growth = Math.max(...samples.filter((s) => s.done >= mid.done).map((s) => s.rss)) -
    mid.rss;
  return { plateaued: growth <= Math.max(PLATEAU_BYTES, mid.rss * PLATEAU_FRACTION), growth };
}

/** Runs the flood; returns the exit code (1 when RSS kept growing). */
export async function runFlood(
  options: BenchOptions,
  print: (line: string) => void,
): Promise<number> {
  const jwt = missing(CASES.find((c) => c.name === "jwt")!) === undefined;
  if (!jwt) {
    print(
      "flood: providers/jwt.ts is not in the tree; JWTs with distinct kids meet no jwt provider",
    );
  }
  await using idp = await startIdentityProvider();
  const dir = await Deno.makeTempDir({ prefix: "aot-flood-" });
  try {
    const port = freePort();
    const providers = `providers:
  - { name: local, type: plain, realm: bench, users: [{ username: bench, password: flood-password, roles: [a] }] }
${
      jwt
        ? `  - { name: idp, type: jwt, realm: idp, cert_uri: "${idp.jwksUrl}", iam_realm: idp }\n`
        : ""
    }`;
    const yaml = gatewayYaml(port, providers, `{ enabled: true, path: "${dir}/tokens.kv" }`);
    await using gateway = await startGateway(yaml, dir, port);
    const samples: FloodSample[] = [{ done: 0, rss: memoryOf(gateway.pid).rss }];
    print(
      `flood: ${options.floodRequests} requests, ${options.connections} connections, gateway pid ${gateway.pid}`,
    );
    print(`       0 requests  RSS ${mib(samples[0]!.rss)}`);
    let lastPrint = 0;
    const result = await builtinDriver({
      host: "127.0.0.1",
      port,
      path: "/authenticate",
      headers: {},
      connections: options.connections,
      requests: options.floodRequests,
      flood: true,
    }, (done) => {
      const sample = { done, rss: memoryOf(gateway.pid).rss };
      samples.push(sample);
      if (done - lastPrint >= options.floodRequests / 20) {
        lastPrint = done;
        print(`${String(done).padStart(8)} requests  RSS ${mib(sample.rss)}`);
      }
    });
    const end = memoryOf(gateway.pid);
    samples.push({ done: result.requests, rss: end.rss });
    print(
      `${String(result.requests).padStart(8)} requests  RSS ${mib(end.rss)}  peak ${mib(end.hwm)}`,
    );
    print(
      `statuses ${JSON.stringify(result.statuses)}, ${
        Math.round(result.rps)
      } req/s, connection errors ${result.errors}`,
    );
    const verdict = plateauVerdict(samples, result.requests);
    print(
      verdict.plateaued
        ? `verdict: plateaued (RSS grew ${mib(verdict.growth)} over the second half)`
        : `verdict: NOT plateaued (RSS grew ${mib(verdict.growth)} over the second half)`,
    );
    return verdict.plateaued ? 0 : 1;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
