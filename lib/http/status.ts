/**
 * `GET /status` on the metrics listener: a JSON snapshot for operators with
 * the version, uptime, the config (file, load time, last reload error),
 * readiness, every plugin (name, kind, type, realm, the plugin's own
 * `status()` and its last failure), every plugin cache and, when enabled, the
 * token store's availability (`token_store`).
 *
 * It never includes plugin options. `status()` output goes through the same
 * redaction as log attributes, and stored failure messages had the credential
 * cut out (see `lib/plugins/health.ts`).
 *
 * @module
 */

import type { BoundedCache } from "../../packages/plugin/_host/cache.ts";
import { redactValue } from "../observability/log_redact.ts";
import type { PluginHealth } from "../plugins/health.ts";
import type { StoreHealthReport } from "../store/store_health.ts";
import type { Readiness } from "./readiness.ts";
import type { ConfigStatus } from "../observability/config_reload.ts";

/** What `/status` knows about one configured plugin. */
export interface StatusPlugin {
  /** Config entry name. */
  readonly name: string;
  /** `provider` or `augmenter`. */
  readonly kind: "provider" | "augmenter";
  /** Config `type`, or the module label. */
  readonly type: string;
  /** `Basic` or `Bearer` for providers. */
  readonly scheme?: string;
  /** The entry's realm. */
  readonly realm: string;
  /** The plugin's optional health details. */
  readonly status?: () => Record<string, unknown>;
}

/** Inputs of {@link createStatusHandler}. */
export interface StatusSources {
  /** Reported as `version`. */
  readonly version: string;
  /** Epoch milliseconds of startup. */
  readonly startedAt: number;
  /** Providers then augmenters, in config order. */
  readonly plugins: readonly StatusPlugin[];
  /** Last failures. */
  readonly health: PluginHealth;
  /** Plugin caches by name. */
  readonly caches: ReadonlyMap<string, BoundedCache<string, unknown>>;
  /** Readiness state. */
  readonly readiness: Readiness;
  /** The token store's availability, when the store is enabled. */
  readonly tokenStore?: () => StoreHealthReport;
  /** Clock in epoch milliseconds. */
  readonly now?: () => number;
  /** The config file, when it was loaded, and the last reload error. */
  readonly config?: () => ConfigStatus;
}

function pluginState(plugin: StatusPlugin): unknown {
  if (plugin.status === undefined) return null;
  try {
    return redactValue(plugin.status());
  } catch (error) {
    return { status_error: error instanceof Error ? error.name : "status() failed" };
  }
}

/** Builds the `/status` document. */
async function buildStatus(sources: StatusSources): Promise<Record<string, unknown>> {
  const now = (sources.now ?? Date.now)();
  const readiness = await sources.readiness.evaluate();
  return {
    version: sources.version,
    started_at: new Date(sources.startedAt).toISOString(),
    uptime_seconds: Math.max(0, Math.round((now - sources.startedAt) / 1000)),
    ...(sources.config === undefined ? {} : { config: sources.config() }),
    ready: readiness.ready,
    shutting_down: readiness.shuttingDown,
    checks: readiness.checks,
    token_store: sources.tokenStore?.() ?? null,
    plugins: sources.plugins.map((plugin) => ({
      name: plugin.name,
      kind: plugin.kind,
      type: plugin.type,
      ...(plugin.scheme === undefined ? {} : { scheme: plugin.scheme }),
      realm: plugin.realm,
      state: pluginState(plugin),
      last_error: sources.health.lastError(plugin.kind, plugin.name) ?? null,
    })),
    caches: [...sources.caches].map(([name, cache]) => ({
      name,
      entries: cache.size,
      hits: cache.stats.hits,
      misses: cache.stats.misses,
      evictions: cache.stats.evictions,
    })),
  };
}

/** The `/status` route handler. */
export function createStatusHandler(sources: StatusSources): () => Promise<Response> {
  return async () =>
    new Response(JSON.stringify(await buildStatus(sources)), {
      headers: { "content-type": "application/json", "cache-control": "no-store" },
    });
}
