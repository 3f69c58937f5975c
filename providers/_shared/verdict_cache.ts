/**
 * A cache of upstream verdicts for the remote providers. Keys are
 * `context.credentialKey(credential)` (an HMAC, never the raw credential);
 * concurrent lookups of one credential share a single upstream call
 * (`PluginCache.getOrLoad`); rejections (`null`) are kept only briefly and
 * failures never.
 *
 * The shared call runs under its own signal, which aborts only when every
 * caller waiting for it has given up (timed out or lost the race), so one
 * impatient caller cannot fail the others, and nobody waits longer than its
 * own `signal` allows.
 *
 * @module
 */

import { type PluginContext, UpstreamUnavailableError } from "../../lib/plugin.ts";
import type { CacheLifetimes } from "./remote_options.ts";

/** Verdicts of one upstream call kind, looked up by credential. */
export interface VerdictCache<V> {
  /**
   * The cached verdict for `credential`, or the result of `load`, shared with
   * concurrent callers. `null` is a rejection. A throw from `load` is not cached.
   */
  lookup(
    credential: string,
    signal: AbortSignal,
    load: (signal: AbortSignal) => Promise<V | null>,
  ): Promise<V | null>;
  /** Forgets what is known about `credential`. */
  forget(credential: string): void;
}

interface Flight {
  readonly controller: AbortController;
  waiters: number;
}

/**
 * Creates a verdict cache named `name` (the gateway prefixes the provider's
 * name). `ttlFor` may shorten the lifetime of an accepted value (e.g. to an
 * access token's `expires_in`).
 */
export function createVerdictCache<V>(
  context: PluginContext,
  name: string,
  lifetimes: CacheLifetimes,
  ttlFor?: (value: V) => number,
): VerdictCache<V> {
  const cache = context.createCache<V | null>(name, {
    ttlMs: lifetimes.ttlMs,
    maxEntries: lifetimes.maxEntries,
  });
  const flights = new Map<string, Flight>();
  const lifetime = (value: V | null) =>
    value === null
      ? lifetimes.negativeTtlMs
      : Math.min(lifetimes.ttlMs, ttlFor ? ttlFor(value) : lifetimes.ttlMs);
  return {
    lookup(credential, signal, load) {
      if (signal.aborted) return Promise.reject(gaveUp());
      const key = context.credentialKey(credential);
      let started: Flight | undefined;
      const shared = cache.getOrLoad(key, () => {
        const flight: Flight = { controller: new AbortController(), waiters: 0 };
        started = flight;
        flights.set(key, flight);
        return load(flight.controller.signal).finally(() => {
          if (flights.get(key) === flight) flights.delete(key);
        });
      }, lifetime);
      const flight = started ?? flights.get(key);
      if (flight === undefined) return shared; // answered from the cache
      flight.waiters++;
      return waitFor(shared, signal, () => {
        if (--flight.waiters === 0) flight.controller.abort(signal.reason);
      });
    },
    forget(credential) {
      cache.delete(context.credentialKey(credential));
    },
  };
}

function gaveUp(): UpstreamUnavailableError {
  return new UpstreamUnavailableError("upstream did not answer in time", "timeout");
}

/** Settles with `shared`, or rejects as soon as `signal` aborts (then calls `leave`). */
function waitFor<T>(shared: Promise<T>, signal: AbortSignal, leave: () => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      leave();
      reject(gaveUp());
    };
    signal.addEventListener("abort", onAbort, { once: true });
    shared.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
