/**
 * `ecmwf-token-generator` provider (spec 5.6): a Bearer refresh/offline token
 * is always
 *
 * 1. validated: `POST <token_generator_url>/validate-token`, JSON
 *    `{"token": T, "client_id": client_id}`; valid when the 2xx JSON has
 *    `active: true` (any 4xx rejects);
 * 2. exchanged: `POST <token_generator_url>/admin/refresh-access-token`, JSON
 *    `{"client_id", "client_secret", "refresh_token": T}` (401/403: the
 *    gateway's client was refused, an upstream failure; other 4xx reject);
 * 3. the access token is validated against `cert_uri` like the `jwt` provider.
 *
 * Options: `token_generator_url`, `cert_uri`, `client_id`, `client_secret`;
 * `validation_cache_ttl_s` (240), `exchange_cache_ttl_s` (240, and never
 * past `expires_in`), `negative_cache_ttl_s` (10), `cache_max_entries`
 * (10 000); plus the access-token options of the `jwt` provider.
 *
 * @module
 */

import { defineProvider, type PluginOptions } from "../lib/plugin.ts";
import { parseAccessTokenOptions } from "./_shared/access_token.ts";
import {
  createExchangeProvider,
  type ExchangeSettings,
  readAccessToken,
} from "./_shared/exchange_flow.ts";
import {
  CACHE_OPTION_KEYS,
  cacheLifetimes,
  joinUrl,
  requireHttpUrl,
  requireString,
} from "./_shared/remote_options.ts";
import { warnInsecureTransport } from "./_shared/transport.ts";
import { ACCESS_TOKEN_OPTION_KEYS } from "./_shared/access_token_options.ts";
import { assertClientAccepted, jsonObject } from "./_shared/upstream_json.ts";

/** Options of the `ecmwf-token-generator` provider. */
export interface TokenGeneratorOptions extends ExchangeSettings {
  /** Base URL of the token generator. */
  readonly tokenGeneratorUrl: string;
  /** The gateway's client id. */
  readonly clientId: string;
  /** Its secret (sent in the exchange body only). */
  readonly clientSecret: string;
}

/** The original's TTL for both steps. */
const CACHE_TTL_S = 240;

/** The `ecmwf-token-generator` provider. */
export default defineProvider<TokenGeneratorOptions>({
  scheme: "Bearer",
  optionKeys: [
    "token_generator_url",
    "client_id",
    "client_secret",
    "validation_cache_ttl_s",
    "exchange_cache_ttl_s",
    ...CACHE_OPTION_KEYS,
    ...ACCESS_TOKEN_OPTION_KEYS,
  ],
  parseOptions(options: PluginOptions): TokenGeneratorOptions {
    return {
      tokenGeneratorUrl: requireHttpUrl(options, "token_generator_url"),
      clientId: requireString(options, "client_id"),
      clientSecret: requireString(options, "client_secret"),
      checkCache: cacheLifetimes(options, "validation_cache_ttl_s", CACHE_TTL_S),
      exchangeCache: cacheLifetimes(options, "exchange_cache_ttl_s", CACHE_TTL_S),
      accessToken: parseAccessTokenOptions(options),
    };
  },
  create(options, context) {
    warnInsecureTransport(context.log, "providers.ecmwf_token_generator.insecure_transport", {
      token_generator_url: options.tokenGeneratorUrl,
      cert_uri: options.accessToken.certUri,
    });
    const validateUrl = joinUrl(options.tokenGeneratorUrl, "/validate-token");
    const exchangeUrl = joinUrl(options.tokenGeneratorUrl, "/admin/refresh-access-token");
    return createExchangeProvider(context, options, "validation", {
      async check(token, signal) {
        const res = await context.http.request(validateUrl, {
          method: "POST",
          json: { token, client_id: options.clientId },
          signal,
        });
        if (res.status >= 400) return null;
        return jsonObject(res).active === true ? true : null;
      },
      async exchange(token, signal) {
        const res = await context.http.request(exchangeUrl, {
          method: "POST",
          json: {
            client_id: options.clientId,
            client_secret: options.clientSecret,
            refresh_token: token,
          },
          signal,
        });
        assertClientAccepted(res, "token generator");
        if (res.status >= 400) {
          context.log.debug(
            "providers.ecmwf_token_generator.exchange_refused",
            "exchange refused",
            {
              status: res.status,
            },
          );
          return null;
        }
        return readAccessToken(res, "token generator");
      },
    });
  },
});
