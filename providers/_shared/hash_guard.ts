/**
 * Keeps expensive password hashing bounded (docs/security.md, D03/RL14): at
 * most {@link HASH_CONCURRENCY} derivations run at once, at most
 * {@link HASH_QUEUE} wait, and anything beyond fails fast as "could not
 * decide" (503, never counted as a failed login). Credentials verified
 * recently are remembered under an HMAC with a per-process secret, so a
 * returning user skips the queue and no password is ever held.
 *
 * @module
 */

import { createHmac } from "node:crypto";
import { UpstreamUnavailableError } from "../../lib/plugin.ts";

/** Derivations running at once, process-wide: one per CPU core. */
export const HASH_CONCURRENCY = Math.max(1, navigator.hardwareConcurrency || 1);
/** Derivations allowed to wait; more fail fast. */
export const HASH_QUEUE = 16 * HASH_CONCURRENCY;
/** Recently verified credentials remembered (LRU). */
export const VERIFIED_MAX = 1000;
/** How long a verified credential is remembered. */
export const VERIFIED_TTL_MS = 60_000;

/** A counting semaphore with a bounded queue. */
export class HashLimiter {
  readonly #limit: number;
  readonly #maxQueue: number;
  #running = 0;
  readonly #queue: (() => void)[] = [];

  /** `limit` concurrent runs, `maxQueue` waiting. */
  constructor(limit: number, maxQueue: number) {
    this.#limit = limit;
    this.#maxQueue = maxQueue;
  }

  /** Runs now, `[running, waiting]`. */
  get load(): [number, number] {
    return [this.#running, this.#queue.length];
  }

  /**
   * Runs `fn` when a slot is free. Throws {@link UpstreamUnavailableError}
   * (`overloaded`) at once when the queue is full, and the signal's reason
   * when it aborts while waiting.
   */
  async run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.#running >= this.#limit) {
      if (this.#queue.length >= this.#maxQueue) {
        throw new UpstreamUnavailableError("password verification is saturated", "overloaded");
      }
      await new Promise<void>((resolve, reject) => {
        const go = () => {
          signal?.removeEventListener("abort", abort);
          resolve();
        };
        const abort = () => {
          this.#queue.splice(this.#queue.indexOf(go), 1);
          reject(signal!.reason);
        };
        signal?.addEventListener("abort", abort, { once: true });
        this.#queue.push(go);
      });
    } else {
      this.#running++;
    }
    try {
      return await fn();
    } finally {
      const next = this.#queue.shift();
      if (next) next(); // the slot passes straight to the next waiter
      else this.#running--;
    }
  }
}

/** The process-wide limiter every `password_hash` verification goes through. */
export const hashLimiter = new HashLimiter(HASH_CONCURRENCY, HASH_QUEUE);

/** Recently verified (hash, password) pairs, as HMACs only; LRU and TTL bounded. */
export class VerifiedCache {
  readonly #secret = crypto.getRandomValues(new Uint8Array(32));
  readonly #entries = new Map<string, number>();
  readonly #max: number;
  readonly #ttlMs: number;

  /** At most `max` entries, each for `ttlMs`. */
  constructor(max: number, ttlMs: number) {
    this.#max = max;
    this.#ttlMs = ttlMs;
  }

  /** Entries held. */
  get size(): number {
    return this.#entries.size;
  }

  /** The key of a password checked against a stored hash (its salt and derived bytes). */
  key(stored: { readonly salt: Uint8Array; readonly hash: Uint8Array }, password: string): string {
    return createHmac("sha256", this.#secret).update(stored.salt).update(stored.hash)
      .update(password).digest("base64url");
  }

  /** Whether `key` was verified within the TTL. */
  has(key: string): boolean {
    const expires = this.#entries.get(key);
    if (expires === undefined) return false;
    if (expires > performance.now()) return true;
    this.#entries.delete(key);
    return false;
  }

  /** Remembers a verified key. */
  add(key: string): void {
    this.#entries.delete(key);
    this.#entries.set(key, performance.now() + this.#ttlMs);
    if (this.#entries.size > this.#max) this.#entries.delete(this.#entries.keys().next().value!);
  }
}

/** The process-wide cache of verified credentials. */
export const verifiedCredentials = new VerifiedCache(VERIFIED_MAX, VERIFIED_TTL_MS);
