/**
 * A bounded cache: least-recently-used eviction, a time-to-live per entry and
 * single-flight loading (concurrent misses for one key share one load).
 * Failed loads are never cached.
 *
 * @module
 */

/** Settings of a {@link BoundedCache}. */
export interface CacheOptions {
  /** At most this many entries; the least recently used goes first. */
  readonly maxEntries: number;
  /** Default time to live in milliseconds. */
  readonly ttlMs: number;
  /** Clock in milliseconds (tests inject one). */
  readonly now?: () => number;
}

/** Counters a cache keeps for metrics. */
export interface CacheStats {
  /** Lookups answered from the cache (including joined in-flight loads). */
  hits: number;
  /** Lookups that had to load. */
  misses: number;
  /** Entries dropped to stay within `maxEntries`. */
  evictions: number;
}

interface Entry<V> {
  readonly value: V;
  readonly expires: number;
}

import { LruMap } from "./lru_map.ts";

/** An LRU + TTL cache with single-flight `getOrLoad`. */
export class BoundedCache<K, V> {
  readonly #entries = new LruMap<K, Entry<V>>();
  readonly #inflight = new Map<K, Promise<V>>();
  readonly #options: CacheOptions;
  readonly #now: () => number;
  /** Hit, miss and eviction counts. */
  readonly stats: CacheStats = { hits: 0, misses: 0, evictions: 0 };

  /** Creates an empty cache. */
  constructor(options: CacheOptions) {
    if (!(options.maxEntries >= 1)) throw new RangeError("maxEntries must be at least 1");
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Entries currently held (expired ones may still count until touched). */
  get size(): number {
    return this.#entries.size;
  }

  /** The fresh value for `key`, if any (and marks it recently used). */
  get(key: K): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expires <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    this.#entries.set(key, entry); // now the most recently used
    return entry.value;
  }

  /** Stores `value` for `ttlMs` (default: the cache's TTL); a TTL of 0 or less stores nothing. */
  set(key: K, value: V, ttlMs: number = this.#options.ttlMs): void {
    if (ttlMs <= 0) {
      this.#entries.delete(key);
      return;
    }
    this.#entries.set(key, { value, expires: this.#now() + ttlMs });
    this.stats.evictions += this.#entries.evictBeyond(this.#options.maxEntries);
  }

  /** Forgets `key`. */
  delete(key: K): void {
    this.#entries.delete(key);
  }

  /** Forgets everything. */
  clear(): void {
    this.#entries.clear();
  }

  /**
   * The cached value, or the result of `load` (shared by concurrent callers of
   * the same key). `ttlFor` may choose a TTL per value (e.g. short for negative
   * verdicts); a rejected load is not cached.
   */
  getOrLoad(key: K, load: () => Promise<V>, ttlFor?: (value: V) => number): Promise<V> {
    const cached = this.get(key);
    if (cached !== undefined) {
      this.stats.hits++;
      return Promise.resolve(cached);
    }
    const pending = this.#inflight.get(key);
    if (pending !== undefined) {
      this.stats.hits++;
      return pending;
    }
    this.stats.misses++;
    const loading = load().then(
      (value) => {
        this.#inflight.delete(key);
        this.set(key, value, ttlFor ? ttlFor(value) : this.#options.ttlMs);
        return value;
      },
      (error) => {
        this.#inflight.delete(key);
        throw error;
      },
    );
    this.#inflight.set(key, loading);
    return loading;
  }
}
