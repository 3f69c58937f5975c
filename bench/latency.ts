/**
 * A fixed-size latency histogram (10 µs buckets up to 1 s), so recording
 * millions of samples costs constant memory.
 *
 * @module
 */

const BUCKET_MS = 0.01;
const BUCKETS = 100_000;

/** Latencies in milliseconds, bucketed. */
export class LatencyHistogram {
  readonly #counts = new Uint32Array(BUCKETS + 1);
  #total = 0;

  /** Adds one sample. */
  record(ms: number): void {
    this.#counts[Math.min(BUCKETS, Math.floor(ms / BUCKET_MS))]!++;
    this.#total++;
  }

  /** Samples recorded. */
  get count(): number {
    return this.#total;
  }

  /** The `q` quantile (0–1) in milliseconds (upper bound of its bucket), or 0 without samples. */
  quantile(q: number): number {
    if (this.#total === 0) return 0;
    const rank = Math.ceil(q * this.#total);
    let seen = 0;
    for (let i = 0; i <= BUCKETS; i++) {
      seen += this.#counts[i]!;
      if (seen >= rank) return (i + 1) * BUCKET_MS;
    }
    return (BUCKETS + 1) * BUCKET_MS;
  }
}
