/**
 * The flow shared by the two token-exchange providers (`openid-offline` and
 * `ecmwf-token-generator`): check the presented long-lived token with the
 * identity service, exchange it for an access token, validate that access
 * token against the JWKS (`./access_token.ts`). Both upstream steps go
 * through their own verdict cache (single-flight, keyed by credential key);
 * when the exchange refuses a token the check's cached verdict is dropped.
 * An exchanged access token that fails validation is a credential the
 * identity service recognised as its own, so it is rejected with
 * {@link CredentialRejectedError} (401 even while another provider is down).
 *
 * @module
 */

import {
  CredentialRejectedError,
  type PluginContext,
  type Provider,
  type UpstreamResponse,
  UpstreamUnavailableError,
} from "../../lib/plugin.ts";
import { type AccessTokenOptions, createAccessTokenValidator } from "./access_token.ts";
import type { CacheLifetimes } from "./remote_options.ts";
import { jsonObject } from "./upstream_json.ts";
import { createVerdictCache } from "./verdict_cache.ts";
import { isPlausibleLength } from "./bearer_shape.ts";

/** An access token obtained by an exchange. */
export interface Exchanged {
  /** The access token (a JWT). */
  readonly accessToken: string;
  /** How long it may be reused: `expires_in` minus a margin, when the service said. */
  readonly ttlMs?: number;
}

/** The two upstream steps of an exchange provider. */
export interface ExchangeSteps {
  /** `true` when the service says the token is valid for this flow, `null` when not. */
  check(credential: string, signal: AbortSignal): Promise<true | null>;
  /** The access token, or `null` when the service refuses the token. */
  exchange(credential: string, signal: AbortSignal): Promise<Exchanged | null>;
}

/** Cache and validation settings of an exchange provider. */
export interface ExchangeSettings {
  /** Lifetimes of cached check verdicts. */
  readonly checkCache: CacheLifetimes;
  /** Lifetimes of cached access tokens. */
  readonly exchangeCache: CacheLifetimes;
  /** How the access token is validated. */
  readonly accessToken: AccessTokenOptions;
}

/** Seconds taken off `expires_in` so a cached access token is not used at its very end. */
const EXPIRY_MARGIN_S = 5;

/**
 * Reads a 2xx token-endpoint answer: a JSON object with a non-empty string
 * `access_token`. Anything else after a positive check is an upstream fault.
 */
export function readAccessToken(res: UpstreamResponse, endpoint: string): Exchanged {
  const body = jsonObject(res);
  if (typeof body.access_token !== "string" || body.access_token === "") {
    throw new UpstreamUnavailableError(
      `${endpoint} answered ${res.status} without an access_token`,
      "invalid_response",
    );
  }
  const expiresIn = body.expires_in;
  return typeof expiresIn === "number" && Number.isFinite(expiresIn)
    ? {
      accessToken: body.access_token,
      ttlMs: Math.max(0, (expiresIn - EXPIRY_MARGIN_S) * 1000),
    }
    : { accessToken: body.access_token };
}

/** Builds the provider for `steps` with caches named `<check>` and `exchange`. */
export function createExchangeProvider(
  context: PluginContext,
  settings: ExchangeSettings,
  checkName: string,
  steps: ExchangeSteps,
): Provider {
  const checks = createVerdictCache<true>(context, checkName, settings.checkCache);
  const exchanges = createVerdictCache<Exchanged>(
    context,
    "exchange",
    settings.exchangeCache,
    (value) => value.ttlMs ?? Infinity,
  );
  const validator = createAccessTokenValidator(settings.accessToken, context);
  return {
    async authenticate(credential, { signal }) {
      if (!isPlausibleLength(credential)) return undefined; // no upstream call for garbage
      const valid = await checks.lookup(credential, signal, (s) => steps.check(credential, s));
      if (valid === null) return undefined;
      const exchanged = await exchanges.lookup(
        credential,
        signal,
        (s) => steps.exchange(credential, s),
      );
      if (exchanged === null) {
        checks.forget(credential);
        return undefined;
      }
      const user = await validator.validate(exchanged.accessToken, signal);
      if (user === undefined) {
        throw new CredentialRejectedError("the exchanged access token was rejected");
      }
      return user;
    },
    status: () => validator.status(),
    async [Symbol.asyncDispose]() {
      await validator.settled();
    },
  };
}
