/**
 * Operator metrics read at scrape time: the hit, miss and eviction counters
 * and sizes of every plugin cache, and the JWKS freshness that providers
 * report through their optional `status()`.
 *
 * Label values are config names: a cache is `<entry name>/<cache name>`, a
 * provider is its entry name. Nothing from a request reaches a label.
 *
 * @module
 */

import type { BoundedCache } from "../../packages/plugin/_host/cache.ts";
import type { GatewayMetrics } from "./metrics.ts";

/** A provider whose `status()` may report JWKS details. */
export interface StatusSource {
  /** Config entry name. */
  readonly name: string;
  /** The plugin's optional `status()`. */
  readonly status?: () => Record<string, unknown>;
}

/** One JWKS as a provider's `status().jwks` reports it. */
interface JwksStatus {
  readonly age_seconds?: unknown;
  readonly last_error?: unknown;
}

/**
 * Reads `status().jwks` of a provider: the oldest key set's age in seconds
 * and whether any refresh is failing, or `undefined` when it reports none
 * (or `status()` throws).
 */
export function jwksHealth(
  source: StatusSource,
): { ageSeconds: number | undefined; failing: boolean } | undefined {
  let jwks: unknown;
  try {
    jwks = source.status?.().jwks;
  } catch {
    return undefined;
  }
  if (!Array.isArray(jwks) || jwks.length === 0) return undefined;
  let ageSeconds: number | undefined;
  let failing = false;
  for (const entry of jwks as JwksStatus[]) {
    if (typeof entry !== "object" || entry === null) continue;
    if (typeof entry.age_seconds === "number" && Number.isFinite(entry.age_seconds)) {
      ageSeconds = Math.max(ageSeconds ?? 0, entry.age_seconds);
    }
    if (typeof entry.last_error === "string" && entry.last_error !== "") failing = true;
  }
  return { ageSeconds, failing };
}

/** Registers the cache and JWKS families, refreshed before every render. */
export function registerCollectedMetrics(
  metrics: GatewayMetrics,
  caches: ReadonlyMap<string, BoundedCache<string, unknown>>,
  providers: readonly StatusSource[],
): void {
  const cacheLabels = ["cache"];
  const hits = metrics.counter(
    "authotron_cache_hits_total",
    "Plugin cache lookups answered from the cache (including joined in-flight loads), by cache (<entry name>/<cache name>).",
    cacheLabels,
  );
  const misses = metrics.counter(
    "authotron_cache_misses_total",
    "Plugin cache lookups that had to load, by cache.",
    cacheLabels,
  );
  const evictions = metrics.counter(
    "authotron_cache_evictions_total",
    "Plugin cache entries dropped to stay within the cache bound, by cache.",
    cacheLabels,
  );
  const entries = metrics.gauge(
    "authotron_cache_entries",
    "Entries currently held by a plugin cache (expired entries count until touched).",
    cacheLabels,
  );
  const jwksAge = metrics.gauge(
    "authotron_jwks_age_seconds",
    "Age in seconds of the oldest JWKS a provider holds, from its status().",
    ["provider_name"],
  );
  const jwksFailing = metrics.gauge(
    "authotron_jwks_refresh_failing",
    "1 when the last JWKS refresh of a provider failed (it keeps serving the keys it has), else 0.",
    ["provider_name"],
  );
  metrics.onCollect(() => {
    for (const [name, cache] of caches) {
      const labels = { cache: name };
      hits.series(labels).value = cache.stats.hits;
      misses.series(labels).value = cache.stats.misses;
      evictions.series(labels).value = cache.stats.evictions;
      entries.set(labels, cache.size);
    }
    for (const source of providers) {
      const health = jwksHealth(source);
      if (health === undefined) continue;
      const labels = { provider_name: source.name };
      if (health.ageSeconds !== undefined) jwksAge.set(labels, health.ageSeconds);
      jwksFailing.set(labels, health.failing ? 1 : 0);
    }
  });
}
