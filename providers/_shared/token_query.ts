/**
 * The token check shared by `ecmwf-api` and `efas-api`: `GET <endpoint>?token=<credential>`
 * through a verdict cache. Any 4xx rejects (logged at debug); a 2xx JSON object
 * is mapped to a user, and one that names nobody rejects too (logged as a warning).
 *
 * @module
 */

import type { CallContext, PluginContext, User } from "../../lib/plugin.ts";
import type { CacheLifetimes } from "./remote_options.ts";
import { createVerdictCache } from "./verdict_cache.ts";
import { jsonObject } from "./upstream_json.ts";
import { isPlausibleApiKey } from "./bearer_shape.ts";

/** One log line: event name and message. */
export type LogLine = readonly [event: string, message: string];

/** What differs between the token-check providers. */
export interface TokenQuery {
  /** Verdict cache name. */
  readonly cacheName: string;
  /** The URL the `token` query parameter is added to. */
  readonly endpoint: string;
  /** Maps the answer to a user; `null` when it does not name one. */
  readonly toUser: (body: Record<string, unknown>) => User | null;
  /** Logged (debug) when the service answers 4xx. */
  readonly rejected: LogLine;
  /** Logged (warn) when a 2xx answer names nobody. */
  readonly unusable: LogLine;
}

/** Creates the `authenticate` of a token-check provider. */
export function createTokenQuery(
  context: PluginContext,
  lifetimes: CacheLifetimes,
  query: TokenQuery,
): (credential: string, call: CallContext) => Promise<User | undefined> {
  const verdicts = createVerdictCache<User>(context, query.cacheName, lifetimes);
  return async (credential, { signal, log }) => {
    if (!isPlausibleApiKey(credential)) return undefined; // no upstream call for garbage
    const user = await verdicts.lookup(credential, signal, async (shared) => {
      const res = await context.http.request(query.endpoint, {
        query: { token: credential },
        signal: shared,
      });
      if (res.status >= 400) {
        log.debug(...query.rejected, { status: res.status });
        return null;
      }
      const found = query.toUser(jsonObject(res));
      if (found === null) log.warn(...query.unusable);
      return found;
    });
    return user ?? undefined;
  };
}
