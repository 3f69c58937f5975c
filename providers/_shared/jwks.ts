/**
 * A JSON Web Key Set fetched from `cert_uri` and kept in memory, shared by
 * every provider of the process that uses the same URI and settings.
 *
 * jose's `createRemoteJWKSet` has no size cap, no stale-if-error and no
 * back-off after failures, so this module fetches through the plugin HTTP
 * layer itself and hands each good set to jose's `createLocalJWKSet`:
 *
 * - fresh for `cacheTtlS` (600 s); an older set is still used while one
 *   background refresh runs (stale-while-revalidate);
 * - when refreshes fail, the last good set is used up to `maxStaleS` past its
 *   TTL; failed fetches back off from 1 s, doubling, to 60 s;
 * - but while there is no usable set and requests are waiting for one, the
 *   next fetch is at most 1–2 s (jittered) after the failed one, so recovery
 *   follows the IdP within about 2 s while a dead IdP still sees at most one
 *   fetch a second from each process (fetches are never made without demand);
 * - an unknown `kid` triggers at most one refetch per `refetchIntervalS`;
 * - concurrent fetches are single-flight;
 * - an empty, non-JSON, keyless or oversized set (over 1 MiB or 100 keys)
 *   never replaces a good one;
 * - RSA keys under 2048 or over 8192 bits are dropped at ingest and logged.
 *
 * @module
 */

import type { PluginLogger, UpstreamHttp } from "../../lib/plugin.ts";
import { UpstreamUnavailableError } from "../../lib/plugin.ts";
import { buildKeySnapshot, type KeySnapshot } from "./jwks_snapshot.ts";

export type { KeySnapshot };

/** Settings of a {@link JwksKeySet}, in seconds. */
export interface JwksSettings {
  /** How long a fetched set is fresh (default 600). */
  readonly cacheTtlS: number;
  /** At most one refetch per this many seconds for an unknown `kid` (default 30). */
  readonly refetchIntervalS: number;
  /** How long past its TTL a set is still used while refreshes fail (default 3600). */
  readonly maxStaleS: number;
  /** Timeout of one fetch (default 5). */
  readonly timeoutS: number;
}

/** The defaults of {@link JwksSettings}. */
export const DEFAULT_JWKS_SETTINGS: JwksSettings = {
  cacheTtlS: 600,
  refetchIntervalS: 30,
  maxStaleS: 3600,
  timeoutS: 5,
};

/** Largest JWKS body accepted, in bytes. */
export const MAX_JWKS_BYTES = 1024 * 1024;
/** First back-off step after a failed fetch, in milliseconds. */
export const BACKOFF_MIN_MS = 1000;
/** Longest back-off step, in milliseconds. */
export const BACKOFF_MAX_MS = 60_000;
/** With no usable set and requests waiting, retry after at least this long… */
export const DEMAND_RETRY_MIN_MS = 1000;
/** …plus a random jitter of up to this long. */
export const DEMAND_RETRY_JITTER_MS = 1000;

/** What a {@link JwksKeySet} needs from its host. */
export interface JwksDeps {
  /** The plugin HTTP layer. */
  readonly http: UpstreamHttp;
  /** Where fetch failures and rejected sets are logged. */
  readonly log: PluginLogger;
  /** Monotonic clock in milliseconds (tests inject one). */
  readonly now?: () => number;
}

interface Good {
  readonly snapshot: KeySnapshot;
  readonly fetchedAt: number;
}

/** A JWKS URI with its last good keys, refresh state and counters. */
export class JwksKeySet {
  readonly #uri: string;
  readonly #settings: JwksSettings;
  readonly #deps: JwksDeps;
  readonly #now: () => number;
  #good: Good | undefined;
  #inflight: Promise<UpstreamUnavailableError | undefined> | undefined;
  #lastAttemptAt = -Infinity;
  #failures = 0;
  #retryAt = -Infinity;
  /** When a fetch may be retried for requests that have no usable set (≤ {@link #retryAt}). */
  #demandRetryAt = -Infinity;
  #lastError: UpstreamUnavailableError | undefined;
  #fetches = 0;

  /** Creates an empty set for `uri`; nothing is fetched until keys are needed. */
  constructor(uri: string, settings: JwksSettings, deps: JwksDeps) {
    this.#uri = uri;
    this.#settings = settings;
    this.#deps = deps;
    this.#now = deps.now ?? (() => performance.now());
  }

  /** Fetches started so far (for tests and status). */
  get fetches(): number {
    return this.#fetches;
  }

  /**
   * The keys to verify a token whose header names `kid`. Refetches (at most
   * once per refetch interval) when `kid` is unknown. The returned snapshot
   * may still lack `kid`: then the token is invalid. Throws
   * {@link UpstreamUnavailableError} when no usable set can be had, or when
   * `kid` is unknown and the endpoint is failing.
   */
  async keysFor(kid: string, signal: AbortSignal): Promise<KeySnapshot> {
    let snapshot = this.#usable();
    if (snapshot === undefined) {
      snapshot = await this.#fetchNow(signal, true);
    } else if (this.#now() - this.#good!.fetchedAt >= this.#ttlMs() && this.#mayFetch()) {
      void this.#start();
    }
    if (snapshot.kids.has(kid)) return snapshot;
    if (this.#inflight !== undefined) return await this.#fetchNow(signal);
    if (this.#failures > 0) {
      if (this.#mayFetch()) return await this.#fetchNow(signal);
      throw this.#unavailable();
    }
    if (this.#now() - this.#lastAttemptAt >= this.#settings.refetchIntervalS * 1000) {
      return await this.#fetchNow(signal);
    }
    return snapshot;
  }

  /** Health details for `Provider.status()`; never a secret. */
  status(): Record<string, unknown> {
    const age = this.#good && (this.#now() - this.#good.fetchedAt) / 1000;
    return {
      uri: displayUri(this.#uri),
      keys: this.#good?.snapshot.size ?? 0,
      age_seconds: age === undefined ? null : Math.round(age),
      stale: age === undefined ? null : age >= this.#settings.cacheTtlS,
      usable: this.#usable() !== undefined,
      last_error: this.#lastError?.message ?? null,
      consecutive_failures: this.#failures,
      fetches: this.#fetches,
    };
  }

  /** Resolves once no fetch is in flight (used at shutdown and by tests). */
  async settled(): Promise<void> {
    while (this.#inflight !== undefined) await this.#inflight;
  }

  #ttlMs(): number {
    return this.#settings.cacheTtlS * 1000;
  }

  #usable(): KeySnapshot | undefined {
    const good = this.#good;
    if (good === undefined) return undefined;
    const limit = this.#ttlMs() + this.#settings.maxStaleS * 1000;
    return this.#now() - good.fetchedAt < limit ? good.snapshot : undefined;
  }

  /** `urgent`: a request has no usable set, so the shorter demand back-off applies. */
  #mayFetch(urgent = false): boolean {
    const retryAt = urgent ? this.#demandRetryAt : this.#retryAt;
    return this.#inflight === undefined && this.#now() >= retryAt;
  }

  #unavailable(): UpstreamUnavailableError {
    const last = this.#lastError;
    return new UpstreamUnavailableError(
      `JWKS ${displayUri(this.#uri)} unavailable${last ? `: ${last.message}` : ""}`,
      last?.kind ?? "refused",
      last && { cause: last },
    );
  }

  /** Joins or starts a fetch (unless backing off) and waits for it, bounded by `signal`. */
  async #fetchNow(signal: AbortSignal, urgent = false): Promise<KeySnapshot> {
    if (signal.aborted) throw timeoutError();
    if (this.#inflight === undefined && !this.#mayFetch(urgent)) throw this.#unavailable();
    const pending = this.#inflight ?? this.#start();
    const error = await abortable(pending, signal);
    if (error !== undefined) throw this.#unavailable();
    const snapshot = this.#usable();
    if (snapshot === undefined) throw this.#unavailable();
    return snapshot;
  }

  #start(): Promise<UpstreamUnavailableError | undefined> {
    this.#fetches++;
    this.#lastAttemptAt = this.#now();
    const pending = this.#load().then(
      (snapshot) => {
        this.#good = { snapshot, fetchedAt: this.#now() };
        this.#failures = 0;
        this.#retryAt = -Infinity;
        this.#demandRetryAt = -Infinity;
        this.#lastError = undefined;
        return undefined;
      },
      (error: unknown) => this.#failed(error),
    ).finally(() => {
      this.#inflight = undefined;
    });
    this.#inflight = pending;
    return pending;
  }

  #failed(error: unknown): UpstreamUnavailableError {
    const failure = error instanceof UpstreamUnavailableError
      ? error
      : new UpstreamUnavailableError(String(error), "invalid_response", { cause: error });
    this.#failures++;
    const backoff = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** (this.#failures - 1));
    this.#retryAt = this.#now() + backoff;
    const demand = DEMAND_RETRY_MIN_MS + Math.random() * DEMAND_RETRY_JITTER_MS;
    this.#demandRetryAt = this.#now() + Math.min(backoff, demand);
    this.#lastError = failure;
    this.#deps.log.warn(
      "providers.jwks.fetch_failed",
      this.#good ? "JWKS refresh failed; keeping the last good keys" : "JWKS fetch failed",
      {
        uri: displayUri(this.#uri),
        kind: failure.kind,
        error: failure.message,
        consecutive_failures: this.#failures,
        retry_in_ms: backoff,
      },
    );
    return failure;
  }

  async #load(): Promise<KeySnapshot> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.#settings.timeoutS * 1000);
    try {
      const res = await this.#deps.http.request(this.#uri, {
        signal: controller.signal,
        maxBytes: MAX_JWKS_BYTES,
      });
      if (res.status < 200 || res.status >= 300) {
        throw new UpstreamUnavailableError(`JWKS endpoint answered ${res.status}`, "status");
      }
      return buildKeySnapshot(res.json(), this.#deps.log);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Waits for `promise`, or throws a timeout error as soon as `signal` aborts. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(timeoutError());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(timeoutError());
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

function timeoutError(): UpstreamUnavailableError {
  return new UpstreamUnavailableError("gave up waiting for the JWKS", "timeout");
}

/** The URI without query or fragment, for logs and status. */
function displayUri(uri: string): string {
  try {
    const url = new URL(uri);
    return url.origin + url.pathname;
  } catch {
    return "(invalid URI)";
  }
}

const MAX_SHARED_SETS = 256;
const shared = new Map<string, JwksKeySet>();

/**
 * The process-wide set for `uri` with these settings (created on first use;
 * at most 256 are remembered, least recently used forgotten first).
 */
export function sharedJwksKeySet(uri: string, settings: JwksSettings, deps: JwksDeps): JwksKeySet {
  const key = `${uri}\n${JSON.stringify(settings)}`;
  let set = shared.get(key);
  if (set === undefined) {
    set = new JwksKeySet(uri, settings, deps);
  } else {
    shared.delete(key);
  }
  shared.set(key, set);
  if (shared.size > MAX_SHARED_SETS) shared.delete(shared.keys().next().value!);
  return set;
}
