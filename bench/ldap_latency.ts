/**
 * Latency of the `ldap` augmenter against a throw-away slapd (needs Debian
 * `slapd`): median and p95 of N lookups through `augment()` directly for
 *
 * - `cached`: the same user again (answered from the cache);
 * - `uncached_pooled`: `cache_ttl_s: 0`, so every call searches, on a warm
 *   pooled connection;
 * - `uncached_cold`: a new augmenter per call (connect + bind + search).
 *
 * Run: `deno run -A bench/ldap_latency.ts [N]` (default 50). Prints JSON.
 *
 * @module
 */

import { startSlapd } from "../tests/support/slapd.ts";
import {
  createLdapAugmenter,
  rolesOf,
  slapdOptions,
  type TestLdapAugmenter,
} from "../tests/support/ldap_augmenter.ts";

const runs = Number(Deno.args[0] ?? 50);

function summary(samples: number[]): { median_ms: number; p95_ms: number; n: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  const round = (ms: number) => Math.round(ms * 1000) / 1000;
  return { median_ms: round(at(0.5)), p95_ms: round(at(0.95)), n: sorted.length };
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

async function measure(ldap: TestLdapAugmenter, username: string): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) samples.push(await time(() => rolesOf(ldap, username)));
  return samples;
}

await using server = await startSlapd({ memberOf: "active-directory" });

await using cachedAugmenter = await createLdapAugmenter(slapdOptions(server));
await rolesOf(cachedAugmenter, "alice");
const cached = await measure(cachedAugmenter, "alice");

await using uncachedAugmenter = await createLdapAugmenter(slapdOptions(server, { cache_ttl_s: 0 }));
await rolesOf(uncachedAugmenter, "alice");
const pooled = await measure(uncachedAugmenter, "alice");
if (uncachedAugmenter.status().searches !== runs + 1) throw new Error("expected a search per call");

const cold: number[] = [];
for (let i = 0; i < runs; i++) {
  await using fresh = await createLdapAugmenter(slapdOptions(server));
  cold.push(await time(() => rolesOf(fresh, "alice")));
}

const result = {
  cached: summary(cached),
  uncached_pooled: summary(pooled),
  uncached_cold: summary(cold),
  deno: Deno.version.deno,
  cpus: navigator.hardwareConcurrency,
};
Deno.stdout.writeSync(new TextEncoder().encode(JSON.stringify(result, null, 2) + "\n"));
