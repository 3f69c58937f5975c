/**
 * The shared services the host hands to every plugin: the upstream HTTP
 * layer, bounded caches (registered by name for metrics) and credential keys.
 *
 * @module
 */

import { BoundedCache } from "./cache.ts";
import { createCredentialKeyer } from "./credential_key.ts";
import type { PluginCache, PluginCacheOptions } from "../mod.ts";
import { createUpstreamHttp, type UpstreamHttp } from "./upstream.ts";

/** Default bound of a plugin cache. */
export const DEFAULT_CACHE_ENTRIES = 10_000;

/** The services plus the registry of caches created through them. */
export interface PluginServicesHost {
  /** Shared upstream HTTP layer. */
  readonly http: UpstreamHttp;
  /** Creates a cache registered under `name`. */
  createCache<V>(name: string, options: PluginCacheOptions): PluginCache<V>;
  /** HMAC key of a credential. */
  credentialKey(credential: string): string;
  /** Every cache created so far, by name (for metrics and `/status`). */
  readonly caches: ReadonlyMap<string, BoundedCache<string, unknown>>;
}

/** Settings of {@link createPluginServices}. */
export interface PluginServicesOptions {
  /** Clock of every cache, in milliseconds (`@authotron/plugin/testing` passes a fake one). */
  readonly now?: () => number;
}

/** Creates the services for one gateway (or one plugin under test). */
export function createPluginServices(options: PluginServicesOptions = {}): PluginServicesHost {
  const caches = new Map<string, BoundedCache<string, unknown>>();
  return {
    http: createUpstreamHttp(),
    credentialKey: createCredentialKeyer(),
    caches,
    createCache<V>(name: string, cacheOptions: PluginCacheOptions): PluginCache<V> {
      const cache = new BoundedCache<string, V>({
        maxEntries: cacheOptions.maxEntries ?? DEFAULT_CACHE_ENTRIES,
        ttlMs: cacheOptions.ttlMs,
        now: options.now,
      });
      caches.set(name, cache as BoundedCache<string, unknown>);
      return cache;
    },
  };
}
