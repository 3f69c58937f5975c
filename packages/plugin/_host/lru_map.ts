/**
 * A `Map` kept in least-recently-used order (oldest first), for the bounded
 * tables of the gateway (packages/plugin/_host/cache.ts, lib/auth/throttle.ts).
 *
 * Marking a key as recently used is a delete and a re-insert, except when the
 * key is already the newest: there a delete that empties the table makes V8
 * shrink its hash table, and the re-insert grow it again, on every repeated
 * use of one hot key. The newest key is the last one set, so it is skipped.
 *
 * @module
 */

/** An insertion-ordered map whose {@link LruMap.set} moves a key to the newest end. */
export class LruMap<K, V> {
  readonly #map = new Map<K, V>();
  // The last key set: when present in the map it is the newest entry (a
  // delete of another key or an eviction of the oldest never moves it).
  #newest: K | undefined;

  /** Entries held. */
  get size(): number {
    return this.#map.size;
  }

  /** The value of `key`, without marking it used. */
  get(key: K): V | undefined {
    return this.#map.get(key);
  }

  /** Stores `value` under `key` as the newest entry. */
  set(key: K, value: V): void {
    if (key !== this.#newest) this.#map.delete(key);
    this.#map.set(key, value);
    this.#newest = key;
  }

  /** Forgets `key`. */
  delete(key: K): void {
    this.#map.delete(key);
  }

  /** Forgets everything. */
  clear(): void {
    this.#map.clear();
  }

  /** Drops the oldest entries beyond `maxEntries`; returns how many. */
  evictBeyond(maxEntries: number): number {
    let evicted = 0;
    while (this.#map.size > maxEntries) {
      this.#map.delete(this.#map.keys().next().value as K);
      evicted++;
    }
    return evicted;
  }
}
