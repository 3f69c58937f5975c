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

/** Distinct suppression reasons counted per window; further ones count as `other`. */
const MAX_REASONS = 16;

interface Window {
  start: number;
  suppressed: number;
  /** Suppressed occurrences by reason, when callers give one. */
  reasons?: Map<string, number>;
}

/** An admitted occurrence: how many were suppressed before it, and why. */
export interface Admitted {
  /** Occurrences suppressed since the last admitted one. */
  readonly suppressed: number;
  /** Those occurrences by reason (only reasons that were given). */
  readonly reasons: Readonly<Record<string, number>>;
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
    return this.admitWithReason(key, now)?.suppressed;
  }

  /**
   * Like {@link admit}, and counts a suppressed occurrence under `reason`
   * (a short fixed phrase); the admitted one reports the counts by reason.
   */
  admitWithReason(key: string, now: number, reason?: string): Admitted | undefined {
    const window = this.#windows.get(key);
    if (window && now - window.start < this.#windowMs) {
      window.suppressed++;
      if (reason !== undefined) {
        const reasons = window.reasons ??= new Map();
        const slot = reasons.has(reason) || reasons.size < MAX_REASONS ? reason : "other";
        reasons.set(slot, (reasons.get(slot) ?? 0) + 1);
      }
      return undefined;
    }
    if (window) {
      const admitted = {
        suppressed: window.suppressed,
        reasons: Object.fromEntries(window.reasons ?? []),
      };
      window.start = now;
      window.suppressed = 0;
      window.reasons = undefined;
      return admitted;
    }
    if (this.#windows.size >= PRUNE_AT) this.#prune(now);
    this.#windows.set(key, { start: now, suppressed: 0 });
    return { suppressed: 0, reasons: {} };
  }

  /** Drops windows that have expired; their suppressed counts are lost. */
  #prune(now: number): void {
    for (const [key, window] of this.#windows) {
      if (now - window.start >= this.#windowMs) this.#windows.delete(key);
    }
    if (this.#windows.size >= PRUNE_AT) this.#windows.clear();
  }
}
