/**
 * `openid-offline` provider (spec 5.3): a Bearer Keycloak offline token is
 *
 * 1. introspected: `POST <iam_url>/realms/<realm>/protocol/openid-connect/token/introspect`,
 *    Basic `private_client_id:private_client_secret`, form `token=<T>`; it is
 *    valid when the 2xx JSON has `active: true` and a string `scope` listing
 *    `offline_access`;
 * 2. exchanged: `POST …/protocol/openid-connect/token`, same Basic auth, form
 *    `client_id=<public_client_id>&grant_type=refresh_token&refresh_token=<T>`;
 * 3. the access token is validated against `cert_uri` like the `jwt` provider.
 *
 * `<realm>` is the entry's realm. A 401/403 from either endpoint means the
 * gateway's client was refused (upstream failure); any other 4xx rejects the
 * token; a 2xx exchange without `access_token` is an upstream fault.
 *
 * Options: `iam_url`, `cert_uri`, `public_client_id`, `private_client_id`,
 * `private_client_secret`; `introspection_cache_ttl_s` (120),
 * `exchange_cache_ttl_s` (10, and never past `expires_in`),
 * `negative_cache_ttl_s` (10), `cache_max_entries` (10 000); plus the
 * access-token options of the `jwt` provider (`issuer`, `audience`, …).
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

/** Options of the `openid-offline` provider. */
export interface OpenidOfflineOptions extends ExchangeSettings {
  /** Keycloak base URL (`/realms/<realm>/…` is appended). */
  readonly iamUrl: string;
  /** Client that owns the offline tokens (sent as `client_id` in the exchange). */
  readonly publicClientId: string;
  /** Confidential client the gateway authenticates as. */
  readonly privateClientId: string;
  /** Its secret. */
  readonly privateClientSecret: string;
}

/** True when a space-separated scope list contains `offline_access`. */
export function hasOfflineAccess(scope: unknown): boolean {
  return typeof scope === "string" && scope.split(/\s+/).includes("offline_access");
}

/** The `openid-offline` provider. */
export default defineProvider<OpenidOfflineOptions>({
  scheme: "Bearer",
  optionKeys: [
    "iam_url",
    "public_client_id",
    "private_client_id",
    "private_client_secret",
    "introspection_cache_ttl_s",
    "exchange_cache_ttl_s",
    ...CACHE_OPTION_KEYS,
    ...ACCESS_TOKEN_OPTION_KEYS,
  ],
  parseOptions(options: PluginOptions): OpenidOfflineOptions {
    return {
      iamUrl: requireHttpUrl(options, "iam_url"),
      publicClientId: requireString(options, "public_client_id"),
      privateClientId: requireString(options, "private_client_id"),
      privateClientSecret: requireString(options, "private_client_secret"),
      checkCache: cacheLifetimes(options, "introspection_cache_ttl_s", 120),
      exchangeCache: cacheLifetimes(options, "exchange_cache_ttl_s", 10),
      accessToken: parseAccessTokenOptions(options),
    };
  },
  create(options, context) {
    warnInsecureTransport(context.log, "providers.openid_offline.insecure_transport", {
      iam_url: options.iamUrl,
      cert_uri: options.accessToken.certUri,
    });
    const base = joinUrl(
      options.iamUrl,
      `/realms/${encodeURIComponent(context.realm)}/protocol/openid-connect`,
    );
    const introspectUrl = `${base}/token/introspect`;
    const tokenUrl = `${base}/token`;
    const basicAuth = {
      username: options.privateClientId,
      password: options.privateClientSecret,
    };
    return createExchangeProvider(context, options, "introspection", {
      async check(token, signal) {
        const res = await context.http.request(introspectUrl, {
          method: "POST",
          form: { token },
          basicAuth,
          signal,
        });
        assertClientAccepted(res, "introspection endpoint");
        if (res.status >= 400) return null;
        const body = jsonObject(res);
        return body.active === true && hasOfflineAccess(body.scope) ? true : null;
      },
      async exchange(token, signal) {
        const res = await context.http.request(tokenUrl, {
          method: "POST",
          form: {
            client_id: options.publicClientId,
            grant_type: "refresh_token",
            refresh_token: token,
          },
          basicAuth,
          signal,
        });
        assertClientAccepted(res, "token endpoint");
        if (res.status >= 400) {
          context.log.debug("providers.openid_offline.exchange_refused", "exchange refused", {
            status: res.status,
            error: safeError(res.text),
          });
          return null;
        }
        const exchanged = readAccessToken(res, "token endpoint");
        const rotated = jsonObject(res).refresh_token;
        if (typeof rotated === "string" && rotated !== token) {
          context.log.warn(
            "providers.openid_offline.token_rotated",
            "the identity provider rotated an offline token on exchange; disable refresh-token rotation for this client",
          );
        }
        return exchanged;
      },
    });
  },
});

/** The OAuth `error` code of a refusal (a short token such as `invalid_grant`), if any. */
function safeError(text: string): string | undefined {
  try {
    const error = (JSON.parse(text) as { error?: unknown })?.error;
    return typeof error === "string" && /^[\w.-]{1,64}$/.test(error) ? error : undefined;
  } catch {
    return undefined;
  }
}
