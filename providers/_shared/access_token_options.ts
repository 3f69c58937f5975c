/**
 * Options of access-token validation (spec 5.2), shared by `jwt`,
 * `openid-offline` and `ecmwf-token-generator`: the JWKS URI, the accepted
 * algorithms, the optional issuer/audience/`nbf` checks, clock skew, and the
 * JWKS and token cache settings. Parsing is pure (no I/O).
 *
 * @module
 */

import { missingOption, OptionsError, type PluginOptions } from "../../lib/plugin.ts";
import { DEFAULT_JWKS_SETTINGS, type JwksSettings } from "./jwks.ts";
import { ALLOW_INSECURE_TRANSPORT, checkTransport } from "./transport.ts";

/** Settings of access-token validation. */
export interface AccessTokenOptions {
  /** JWKS URL (`cert_uri`). */
  certUri: string;
  /** Scopes are keyed by this name; empty means the plugin entry's name. */
  providerName: string;
  /** Accepted `alg` values (default {@link DEFAULT_ALGORITHMS}). */
  algorithms?: string[];
  /** Required `iss` (one of), checked only when set. */
  issuer?: string | string[];
  /** Required `aud` (one of), checked only when set. */
  audience?: string | string[];
  /** Leeway for `exp` (and `nbf`), in seconds (default 60). */
  clockSkewS?: number;
  /** Longest accepted `exp − iat`, in seconds; unset (the default) means no cap. */
  maxTokenLifetimeS?: number;
  /** Rejects a token whose `nbf` is in the future (default false, as the original). */
  checkNbf?: boolean;
  /** Requires a string `scope` claim (default true, as the original). */
  requireScope?: boolean;
  /** JWKS cache settings (default {@link DEFAULT_JWKS_SETTINGS}). */
  jwks?: JwksSettings;
  /** How long a verified token is remembered, in seconds; never past its `exp` (default 60). */
  tokenCacheTtlS?: number;
  /** Most verified tokens remembered (default 10 000). */
  tokenCacheMaxEntries?: number;
}

/** Algorithms accepted by default: the original's RS256/RS512/HS512 plus ES256/ES384/PS256/EdDSA. */
export const DEFAULT_ALGORITHMS: readonly string[] = [
  "RS256",
  "RS512",
  "HS512",
  "ES256",
  "ES384",
  "PS256",
  "EdDSA",
];

/** Every algorithm `algorithms` may list. HS256/HS384 and `none` are never accepted. */
export const SUPPORTED_ALGORITHMS: readonly string[] = [
  ...DEFAULT_ALGORITHMS,
  "RS384",
  "PS384",
  "PS512",
  "ES512",
  "Ed25519",
];

/** Default leeway for `exp`, in seconds (the original's). */
/** Every option key {@link parseAccessTokenOptions} reads (for a plugin's `optionKeys`). */
export const ACCESS_TOKEN_OPTION_KEYS: readonly string[] = [
  "cert_uri",
  "algorithms",
  "issuer",
  "audience",
  "clock_skew_s",
  "max_token_lifetime_s",
  "check_nbf",
  "require_scope",
  "jwks_cache_ttl_s",
  "jwks_refetch_interval_s",
  "jwks_max_stale_s",
  "jwks_timeout_s",
  "token_cache_ttl_s",
  "token_cache_max_entries",
  ALLOW_INSECURE_TRANSPORT,
];

export const DEFAULT_CLOCK_SKEW_S = 60;
/** Default lifetime of a verified-token cache entry, in seconds. */
export const DEFAULT_TOKEN_CACHE_TTL_S = 60;
/** Default bound of the verified-token cache. */
export const DEFAULT_TOKEN_CACHE_ENTRIES = 10_000;

type Path = readonly (string | number)[];

function seconds(options: PluginOptions, key: string, at: Path, fallback: number, min = 0): number {
  const value = options[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > 31_536_000) {
    throw new OptionsError([...at, key], `expected a number of seconds ≥ ${min}`);
  }
  return value;
}

function flag(options: PluginOptions, key: string, at: Path, fallback: boolean): boolean {
  const value = options[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "boolean") throw new OptionsError([...at, key], "expected true or false");
  return value;
}

function oneOrMore(options: PluginOptions, key: string, at: Path): string | string[] | undefined {
  const value = options[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string" && value !== "") return value;
  if (
    Array.isArray(value) && value.length > 0 &&
    value.every((v) => typeof v === "string" && v !== "")
  ) {
    return [...value];
  }
  throw new OptionsError([...at, key], "expected a non-empty string or list of strings");
}

function certUri(options: PluginOptions, at: Path): string {
  const value = options.cert_uri;
  if (value === undefined || value === null) {
    throw missingOption(options, [...at, "cert_uri"], "the JWKS URL (http or https)");
  }
  if (typeof value !== "string" || value === "") {
    throw new OptionsError([...at, "cert_uri"], "expected the JWKS URL (http or https)");
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new OptionsError([...at, "cert_uri"], "not a valid URL");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new OptionsError([...at, "cert_uri"], "expected an http or https URL");
  }
  checkTransport(options, [...at, "cert_uri"], value);
  return value;
}

function algorithms(options: PluginOptions, at: Path): string[] | undefined {
  const value = options.algorithms;
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.length === 0) {
    throw new OptionsError([...at, "algorithms"], "expected a non-empty list of algorithms");
  }
  value.forEach((alg, i) => {
    if (typeof alg !== "string" || !SUPPORTED_ALGORITHMS.includes(alg)) {
      throw new OptionsError(
        [...at, "algorithms", i],
        `unsupported algorithm ${JSON.stringify(alg)}; choose from ${
          SUPPORTED_ALGORITHMS.join(", ")
        }`,
      );
    }
  });
  return [...new Set(value as string[])];
}

/**
 * Reads `cert_uri` (plain `http:` only to loopback or with
 * `allow_insecure_transport: true`), `algorithms`, `issuer`, `audience`, `clock_skew_s`,
 * `check_nbf`, `require_scope`, `max_token_lifetime_s`, `jwks_cache_ttl_s`,
 * `jwks_refetch_interval_s`, `jwks_max_stale_s`, `jwks_timeout_s`, `token_cache_ttl_s` and
 * `token_cache_max_entries` from `options`. Errors name the key path,
 * prefixed with `prefix`. `providerName` is left empty (the entry's name is
 * used).
 */
export function parseAccessTokenOptions(
  options: PluginOptions,
  prefix: string[] = [],
): AccessTokenOptions {
  const at = prefix;
  const d = DEFAULT_JWKS_SETTINGS;
  const jwks: JwksSettings = {
    cacheTtlS: seconds(options, "jwks_cache_ttl_s", at, d.cacheTtlS, 0.001),
    refetchIntervalS: seconds(options, "jwks_refetch_interval_s", at, d.refetchIntervalS),
    maxStaleS: seconds(options, "jwks_max_stale_s", at, d.maxStaleS),
    timeoutS: seconds(options, "jwks_timeout_s", at, d.timeoutS, 0.001),
  };
  const maxEntries = options.token_cache_max_entries ?? DEFAULT_TOKEN_CACHE_ENTRIES;
  if (typeof maxEntries !== "number" || !Number.isSafeInteger(maxEntries) || maxEntries < 1) {
    throw new OptionsError([...at, "token_cache_max_entries"], "expected a positive integer");
  }
  const result: AccessTokenOptions = {
    certUri: certUri(options, at),
    providerName: "",
    clockSkewS: seconds(options, "clock_skew_s", at, DEFAULT_CLOCK_SKEW_S),
    checkNbf: flag(options, "check_nbf", at, false),
    requireScope: flag(options, "require_scope", at, true),
    jwks,
    tokenCacheTtlS: seconds(options, "token_cache_ttl_s", at, DEFAULT_TOKEN_CACHE_TTL_S),
    tokenCacheMaxEntries: maxEntries,
  };
  const algs = algorithms(options, at);
  if (algs) result.algorithms = algs;
  if (options.max_token_lifetime_s !== undefined && options.max_token_lifetime_s !== null) {
    result.maxTokenLifetimeS = seconds(options, "max_token_lifetime_s", at, 0, 1);
  }
  const issuer = oneOrMore(options, "issuer", at);
  if (issuer !== undefined) result.issuer = issuer;
  const audience = oneOrMore(options, "audience", at);
  if (audience !== undefined) result.audience = audience;
  return result;
}
