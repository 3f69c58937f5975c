/**
 * Helpers of the decision cache (lib/auth/decision_cache.ts): its metrics.
 *
 * @module
 */

import type { GatewayMetrics } from "../observability/metrics.ts";

/** Hit and miss counts kept by the cache. */
export interface DecisionStats {
  /** Answered from the cache. */
  readonly hits: number;
  /** Answered by the providers. */
  readonly misses: number;
}

/**
 * Registers `authotron_decision_cache_requests_total{result="hit"|"miss"}` and
 * `authotron_decision_cache_entries`, refreshed from `stats` and `size` at
 * each scrape (so the hot path only bumps plain counters).
 */
export function registerDecisionMetrics(
  metrics: GatewayMetrics,
  stats: DecisionStats,
  size: () => number,
): void {
  const requests = metrics.counter(
    "authotron_decision_cache_requests_total",
    "Authentications answered from the decision cache (hit) or by the providers (miss).",
    ["result"],
  );
  const hit = requests.series({ result: "hit" });
  const miss = requests.series({ result: "miss" });
  const entries = metrics.gauge(
    "authotron_decision_cache_entries",
    "Decisions currently cached.",
    [],
  )
    .series({});
  let counted = { hits: 0, misses: 0 };
  metrics.onCollect(() => {
    hit.inc(stats.hits - counted.hits);
    miss.inc(stats.misses - counted.misses);
    counted = { hits: stats.hits, misses: stats.misses };
    entries.set(size());
  });
}
