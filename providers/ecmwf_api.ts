/**
 * `ecmwf-api` provider (spec 5.4): a Bearer ECMWF API key is checked with
 * `GET <uri>/who-am-i?token=<key>` (the key URL-encoded, unlike the
 * original). A 2xx JSON object with a string `uid` accepts it (username =
 * `uid`, attribute `ecmwf-email` = `email` when it is a string; the key is
 * never copied into the user). Any other 4xx rejects it; timeouts, 5xx,
 * 429, redirects and unparsable bodies are upstream failures.
 *
 * Options: `uri`; `cache_ttl_s` (60), `negative_cache_ttl_s` (10),
 * `cache_max_entries` (10 000).
 *
 * @module
 */

import { defineProvider, type PluginOptions, type User } from "../lib/plugin.ts";
import {
  CACHE_OPTION_KEYS,
  type CacheLifetimes,
  cacheLifetimes,
  joinUrl,
  requireHttpUrl,
} from "./_shared/remote_options.ts";
import { ALLOW_INSECURE_TRANSPORT, warnInsecureTransport } from "./_shared/transport.ts";
import { createTokenQuery } from "./_shared/token_query.ts";

/** Options of the `ecmwf-api` provider. */
export interface EcmwfApiOptions {
  /** Base URL of the ECMWF API (`/who-am-i` is appended). */
  readonly uri: string;
  /** Verdict cache lifetimes. */
  readonly cache: CacheLifetimes;
}

/** The original's success TTL. */
const CACHE_TTL_S = 60;

/** Maps a who-am-i answer to a user; `null` when it names nobody. */
function toUser(body: Record<string, unknown>): User | null {
  if (typeof body.uid !== "string" || body.uid === "") return null;
  return {
    username: body.uid,
    attributes: typeof body.email === "string" ? { "ecmwf-email": body.email } : {},
  };
}

/** The `ecmwf-api` provider. */
export default defineProvider<EcmwfApiOptions>({
  scheme: "Bearer",
  optionKeys: ["uri", "cache_ttl_s", ...CACHE_OPTION_KEYS, ALLOW_INSECURE_TRANSPORT],
  parseOptions(options: PluginOptions): EcmwfApiOptions {
    return {
      uri: requireHttpUrl(options, "uri"),
      cache: cacheLifetimes(options, "cache_ttl_s", CACHE_TTL_S),
    };
  },
  create({ uri, cache }, context) {
    warnInsecureTransport(context.log, "providers.ecmwf_api.insecure_transport", { uri });
    return {
      authenticate: createTokenQuery(context, cache, {
        cacheName: "who-am-i",
        endpoint: joinUrl(uri, "/who-am-i"),
        toUser,
        rejected: ["providers.ecmwf_api.rejected", "who-am-i refused the key"],
        unusable: ["providers.ecmwf_api.no_uid", "who-am-i answered without a uid"],
      }),
    };
  },
});
