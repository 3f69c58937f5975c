/**
 * Per-key rate limiting of noisy log events (spec section 11): at most one
 * event per key per window; the next emitted event reports how many were
 * suppressed in between.
 *
 * @module
 */

/** The throttling window of spec section 11, in milliseconds. */
export const THROTTLE_WINDOW_MS = 30_000;

/** Keys beyond which expired windows are pruned (keys come from config, not clients). */
const PRUNE_AT = 1024;

interface Window {
  start: number;
  suppressed: number;
}

/** Tracks one window per key. */
export class LogThrottle {
  readonly #windows = new Map<string, Window>();
  readonly #windowMs: number;

  /** Creates a throttle with the given window length. */
  constructor(windowMs: number = THROTTLE_WINDOW_MS) {
    this.#windowMs = windowMs;
  }

  /** How many keys are tracked (bounded by pruning). */
  get size(): number {
    return this.#windows.size;
  }

  /**
   * Records an occurrence of `key` at time `now` (ms). Returns the number of
   * occurrences suppressed since the last emitted one when this one should
   * be emitted (0 for the first), or `undefined` when it is suppressed.
   */
  admit(key: string, now: number): number | undefined {
    const window = this.#windows.get(key);
    if (window && now - window.start < this.#windowMs) {
      window.suppressed++;
      return undefined;
    }
    if (window) {
      const suppressed = window.suppressed;
      window.start = now;
      window.suppressed = 0;
      return suppressed;
    }
    if (this.#windows.size >= PRUNE_AT) this.#prune(now);
    this.#windows.set(key, { start: now, suppressed: 0 });
    return 0;
  }

  /** Drops windows that have expired; their suppressed counts are lost. */
  #prune(now: number): void {
    for (const [key, window] of this.#windows) {
      if (now - window.start >= this.#windowMs) this.#windows.delete(key);
    }
    if (this.#windows.size >= PRUNE_AT) this.#windows.clear();
  }
}
