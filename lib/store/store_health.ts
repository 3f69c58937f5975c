/**
 * Whether the token store is answering, as seen by this process: a small
 * circuit breaker. The first failed operation marks the store unavailable
 * (log event `store.unavailable`, gauge `authotron_token_store_up` 0); from
 * then on token operations fail at once instead of each waiting for the
 * timeout, and a probe (`ping`) runs every {@link PROBE_INTERVAL_MS} until one
 * succeeds (log event `store.recovered`, gauge 1). A successful operation
 * also closes the circuit.
 *
 * This state is reported by `/status`, never by `/ready`: a shared store
 * outage must not take every replica out of rotation while Basic and JWT
 * requests are still served.
 *
 * @module
 */

import { errorMessage } from "../util/errors.ts";
import type { Logger } from "../observability/log.ts";
import type { GaugeSeries } from "../observability/metrics_families.ts";

/** While unavailable, the store is probed this often (milliseconds). */
export const PROBE_INTERVAL_MS = 1000;

/** What `/status` shows about the store. */
export interface StoreHealthReport {
  /** `deno-kv` or `postgres`. */
  readonly backend: string;
  /** False from the first failure until a probe or an operation succeeds. */
  readonly available: boolean;
  /** RFC 3339 time of the last change of `available` (startup if none). */
  readonly since: string;
  /** The failure that made it unavailable, while it is. */
  readonly last_error: string | null;
}

/** Settings of a {@link StoreHealth}. */
export interface StoreHealthOptions {
  /** The backend's name, for logs and `/status`. */
  readonly backend: string;
  /** One probe of the store; rejects when it does not answer. */
  readonly probe: () => Promise<void>;
  /** The `store` logger. */
  readonly log: Logger;
  /** Probe period while unavailable (default {@link PROBE_INTERVAL_MS}). */
  readonly probeIntervalMs?: number;
}

/** The availability of one token store, with its recovery probe. */
export class StoreHealth {
  readonly #backend: string;
  readonly #probe: () => Promise<void>;
  readonly #log: Logger;
  readonly #intervalMs: number;
  #available = true;
  #since = Date.now();
  #lastError: string | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #probing: Promise<void> | undefined;
  #closed = false;
  #gauge: GaugeSeries | undefined;

  /** Creates the state: available until an operation fails. */
  constructor(options: StoreHealthOptions) {
    this.#backend = options.backend;
    this.#probe = options.probe;
    this.#log = options.log;
    this.#intervalMs = options.probeIntervalMs ?? PROBE_INTERVAL_MS;
  }

  /** True unless the last operation or probe failed. */
  get available(): boolean {
    return this.#available;
  }

  /** Mirrors the state into `gauge` (1 available, 0 not). */
  instrument(gauge: GaugeSeries): void {
    this.#gauge = gauge;
    gauge.set(this.#available ? 1 : 0);
  }

  /** The state for `/status`. */
  report(): StoreHealthReport {
    return {
      backend: this.#backend,
      available: this.#available,
      since: new Date(this.#since).toISOString(),
      last_error: this.#lastError,
    };
  }

  /** An operation succeeded: the store is available. */
  succeeded(): void {
    if (this.#available) return;
    this.#set(true, null);
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const downMs = Date.now() - this.#since;
    this.#log.info("store.recovered", "token store answers again", {
      backend: this.#backend,
      unavailable_ms: downMs,
    });
  }

  /** An operation failed: mark the store unavailable and start probing. */
  failed(error: unknown): void {
    if (!this.#available || this.#closed) return;
    const message = errorMessage(error);
    this.#set(false, message);
    this.#log.warn(
      "store.unavailable",
      "token store unavailable; token operations fail fast until it answers",
      { backend: this.#backend, error: message, probe_interval_ms: this.#intervalMs },
    );
    this.#schedule();
  }

  /** Stops probing and waits for a probe in flight. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#probing;
  }

  #set(available: boolean, lastError: string | null): void {
    this.#available = available;
    this.#since = Date.now();
    this.#lastError = lastError;
    this.#gauge?.set(available ? 1 : 0);
  }

  #schedule(): void {
    if (this.#closed || this.#available || this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#probing = this.#probe().then(
        () => this.succeeded(),
        (error) => {
          this.#lastError = errorMessage(error);
        },
      ).finally(() => {
        this.#probing = undefined;
        this.#schedule();
      });
    }, this.#intervalMs);
  }
}
