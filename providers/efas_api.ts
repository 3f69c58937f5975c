/**
 * `efas-api` provider (spec 5.5): a Bearer EFAS token is checked with
 * `GET <uri>?token=<token>` (URL-encoded and appended to any query the URI
 * already has). A 2xx JSON object with a string `username` accepts it:
 * roles as given (a list of strings, default none), attribute `email` when it
 * is a string, realm = the entry's realm. As in the original, the provider
 * answers to `X-Auth-Realm: efas` and shows `realm="efas"` in challenges
 * (`filterRealm`). A 2xx without `username` or with mistyped fields, and any
 * 4xx, reject; timeouts, 5xx, 429, redirects and unparsable bodies are
 * upstream failures.
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
  requireHttpUrl,
} from "./_shared/remote_options.ts";
import { ALLOW_INSECURE_TRANSPORT, warnInsecureTransport } from "./_shared/transport.ts";
import { createTokenQuery } from "./_shared/token_query.ts";

/** Options of the `efas-api` provider. */
export interface EfasApiOptions {
  /** The EFAS token-check URL (`?token=` is appended). */
  readonly uri: string;
  /** Verdict cache lifetimes. */
  readonly cache: CacheLifetimes;
}

/** The realm the original hard-codes for filtering, challenges and metrics. */
const EFAS_FILTER_REALM = "efas";

/** The original's success TTL. */
const CACHE_TTL_S = 60;

/** Maps an EFAS answer to a user; `null` when it does not fit the schema. */
function toUser(body: Record<string, unknown>): User | null {
  const { username, roles = [], email = null } = body;
  if (typeof username !== "string" || username === "") return null;
  if (!Array.isArray(roles) || !roles.every((r) => typeof r === "string")) return null;
  if (email !== null && typeof email !== "string") return null;
  return {
    username,
    roles: [...roles],
    attributes: typeof email === "string" ? { email } : {},
  };
}

/** The `efas-api` provider. */
export default defineProvider<EfasApiOptions>({
  scheme: "Bearer",
  optionKeys: ["uri", "cache_ttl_s", ...CACHE_OPTION_KEYS, ALLOW_INSECURE_TRANSPORT],
  parseOptions(options: PluginOptions): EfasApiOptions {
    return {
      uri: requireHttpUrl(options, "uri"),
      cache: cacheLifetimes(options, "cache_ttl_s", CACHE_TTL_S),
    };
  },
  create({ uri, cache }, context) {
    warnInsecureTransport(context.log, "providers.efas_api.insecure_transport", { uri });
    return {
      filterRealm: EFAS_FILTER_REALM,
      authenticate: createTokenQuery(context, cache, {
        cacheName: "token-check",
        endpoint: uri,
        toUser,
        rejected: ["providers.efas_api.rejected", "EFAS refused the token"],
        unusable: [
          "providers.efas_api.bad_user",
          "EFAS answered without a valid username/roles",
        ],
      }),
    };
  },
});
