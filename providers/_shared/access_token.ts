/**
 * Access-token validation (spec 5.2), shared by the `jwt`, `openid-offline`
 * and `ecmwf-token-generator` providers: a strict compact-JWS pre-check, an
 * algorithm allowlist, a required `kid`, the signature checked by jose
 * against the shared JWKS (`./jwks.ts`), the claim checks and the user
 * mapping (`./jwt_claims.ts`). Verified users are cached by credential key,
 * never past the token's `exp`; concurrent identical tokens share one check.
 *
 * When the JWKS cannot be had, the claim checks run on the unverified
 * payload, so a provider whose JWKS is down still rejects a malformed,
 * expired or foreign-issuer token (`undefined`) instead of reporting an
 * outage. A token the provider recognises as its own — its `kid` is in the
 * key set, or its `iss` is a configured issuer — and rejects throws
 * {@link CredentialRejectedError}: 401 whatever another provider's state.
 *
 * @module
 */

import {
  base64url,
  compactVerify,
  decodeProtectedHeader,
  type ProtectedHeaderParameters,
} from "jose";
import type { PluginContext, User } from "../../lib/plugin.ts";
import { CredentialRejectedError, UpstreamUnavailableError } from "../../lib/plugin.ts";
import {
  type AccessTokenOptions,
  DEFAULT_ALGORITHMS,
  DEFAULT_CLOCK_SKEW_S,
  DEFAULT_TOKEN_CACHE_ENTRIES,
  DEFAULT_TOKEN_CACHE_TTL_S,
} from "./access_token_options.ts";
import { DEFAULT_JWKS_SETTINGS, type KeySnapshot, sharedJwksKeySet } from "./jwks.ts";
import { hasDuplicateKeys } from "./json_strict.ts";
import { type ClaimPolicy, claimProblem, parseClaims, userFromClaims } from "./jwt_claims.ts";

export {
  type AccessTokenOptions,
  DEFAULT_ALGORITHMS,
  parseAccessTokenOptions,
} from "./access_token_options.ts";

/** Validates access tokens for one provider. */
export interface AccessTokenValidator {
  /**
   * The user for a valid token; `undefined` for an invalid one. Throws
   * {@link CredentialRejectedError} for an invalid token it recognises as its
   * own, and {@link UpstreamUnavailableError} only when the JWKS cannot be
   * obtained for a token it could not judge without it. `explain` (the
   * provider's `ctx.explain`) is told why a token is refused.
   */
  validate(
    token: string,
    signal: AbortSignal,
    explain?: (reason: string) => void,
  ): Promise<User | undefined>;
  /** JWKS health for `Provider.status()`. */
  status(): Record<string, unknown>;
  /** Waits for any JWKS fetch in flight (call at shutdown). */
  settled(): Promise<void>;
}

/** Longest token accepted, in characters. */
export const MAX_TOKEN_LENGTH = 16 * 1024;

/** Header `typ` values of access tokens (RFC 7519 `JWT`, RFC 9068 `at+jwt`); others are refused. */
const ACCESS_TOKEN_TYP = /^(?:application\/)?(?:jwt|at\+jwt)$/i;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** A base64url segment without padding whose unused trailing bits are zero. */
function canonicalSegment(segment: string): boolean {
  const rest = segment.length % 4;
  if (rest === 0) return true;
  if (rest === 1) return false;
  const last = B64URL.indexOf(segment[segment.length - 1]);
  return (last & (rest === 2 ? 15 : 3)) === 0;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** The protected header of a well-formed compact JWS, else `undefined` (also for duplicate names). */
function headerOf(token: string): ProtectedHeaderParameters | undefined {
  if (token.length > MAX_TOKEN_LENGTH || !COMPACT_JWS.test(token)) return undefined;
  if (!token.split(".").every(canonicalSegment)) return undefined;
  try {
    const header = decodeProtectedHeader(token);
    const text = utf8.decode(base64url.decode(token.slice(0, token.indexOf("."))));
    return hasDuplicateKeys(text) ? undefined : header;
  } catch {
    return undefined;
  }
}

function list(value: string | string[] | undefined): readonly string[] | undefined {
  return value === undefined ? undefined : typeof value === "string" ? [value] : value;
}

/** Waits for `promise`, or fails with a timeout as soon as `signal` aborts. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  const timeout = () => new UpstreamUnavailableError("gave up waiting", "timeout");
  if (signal.aborted) return Promise.reject(timeout());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(timeout());
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** Never aborts: shared checks are bounded by the JWKS fetch timeout, not by one caller. */
const NO_SIGNAL = new AbortController().signal;

/** Builds the validator for one provider; `providerName` defaults to `context.name`. */
export function createAccessTokenValidator(
  options: AccessTokenOptions,
  context: PluginContext,
): AccessTokenValidator {
  const providerName = options.providerName || context.name;
  const algorithms = options.algorithms ?? [...DEFAULT_ALGORITHMS];
  const policy: ClaimPolicy = {
    clockSkewS: options.clockSkewS ?? DEFAULT_CLOCK_SKEW_S,
    checkNbf: options.checkNbf ?? false,
    requireScope: options.requireScope ?? true,
    issuers: list(options.issuer),
    audiences: list(options.audience),
    ...(options.maxTokenLifetimeS !== undefined ? { maxLifetimeS: options.maxTokenLifetimeS } : {}),
  };
  const jwks = sharedJwksKeySet(options.certUri, options.jwks ?? DEFAULT_JWKS_SETTINGS, {
    http: context.http,
    log: context.log,
  });
  const ttlMs = (options.tokenCacheTtlS ?? DEFAULT_TOKEN_CACHE_TTL_S) * 1000;
  const cache = context.createCache<User | null>("access_tokens", {
    ttlMs: Math.max(ttlMs, 1),
    maxEntries: options.tokenCacheMaxEntries ?? DEFAULT_TOKEN_CACHE_ENTRIES,
  });

  function reject(reason: string, explain?: (reason: string) => void): null {
    context.log.debug("providers.jwt.token.invalid", "access token rejected", { reason });
    explain?.(reason.toLowerCase());
    return null;
  }

  /** Rejects a token this provider recognises as its own: 401 whatever the others say. */
  function rejectOwn(reason: string, explain?: (reason: string) => void): never {
    explain?.(reason.toLowerCase());
    context.log.debug("providers.jwt.token.invalid", "access token rejected", {
      reason,
      own_token: true,
    });
    throw new CredentialRejectedError(`access token rejected: ${reason}`);
  }

  /** The still unverified payload as a JSON object, if it is one. */
  function unverifiedClaims(token: string): Record<string, unknown> | undefined {
    try {
      return parseClaims(base64url.decode(token.split(".")[1]));
    } catch {
      return undefined;
    }
  }

  /** Why the claims (verified or not) are refused, or the user they make. */
  function judgeClaims(claims: Record<string, unknown> | undefined): User | string {
    if (claims === undefined) return "payload is not a JSON object";
    const problem = claimProblem(claims, policy, Math.floor(Date.now() / 1000));
    if (problem !== undefined) return problem;
    return userFromClaims(claims, providerName) ?? "malformed roles claims";
  }

  async function check(
    token: string,
    kid: string,
    explain?: (reason: string) => void,
  ): Promise<User | null> {
    let keys: KeySnapshot;
    try {
      keys = await jwks.keysFor(kid, NO_SIGNAL);
    } catch (error) {
      // Without keys, what needs none is still a definitive "no", not an outage.
      const local = judgeClaims(unverifiedClaims(token));
      if (typeof local === "string") return reject(`without the JWKS: ${local}`, explain);
      throw error;
    }
    if (!keys.kids.has(kid)) {
      const iss = unverifiedClaims(token)?.iss;
      const ours = typeof iss === "string" && policy.issuers?.includes(iss) === true;
      return ours
        ? rejectOwn("unknown kid for this issuer", explain)
        : reject("unknown kid", explain);
    }
    // From here the kid is one of this provider's keys: every rejection is its own.
    let payload: Uint8Array;
    try {
      ({ payload } = await compactVerify(token, (header) => keys.resolve(header), { algorithms }));
    } catch (error) {
      const code = (error as { code?: string }).code;
      explain?.(
        code === "ERR_JWS_SIGNATURE_VERIFICATION_FAILED"
          ? "signature mismatch"
          : "signature not verifiable",
      );
      return rejectOwn(code ?? "verification failed");
    }
    const user = judgeClaims(parseClaims(payload));
    return typeof user === "string" ? rejectOwn(user, explain) : user;
  }

  /** Until min(exp, now + TTL); nothing for rejections or tokens already past `exp`. */
  function ttlFor(user: User | null): number {
    if (user === null) return 0;
    const exp = Number(user.attributes?.exp);
    return Math.min(ttlMs, exp * 1000 - Date.now());
  }

  return {
    async validate(token, signal, explain) {
      const refuse = (reason: string) => (explain?.(reason), undefined);
      const header = headerOf(token);
      if (header === undefined) return refuse("not a well-formed jwt");
      const { alg, kid } = header;
      if (typeof alg !== "string" || !algorithms.includes(alg)) {
        return refuse("algorithm not allowed");
      }
      if (typeof kid !== "string" || kid === "" || header.crit !== undefined) {
        return refuse("no kid or a crit header");
      }
      if (header.typ !== undefined && !ACCESS_TOKEN_TYP.test(String(header.typ))) {
        return refuse("not an access token (typ)");
      }
      const key = context.credentialKey(token);
      const user = await abortable(
        cache.getOrLoad(key, () => check(token, kid, explain), ttlFor),
        signal,
      );
      return user ?? undefined;
    },
    status: () => ({ jwks: jwks.status() }),
    settled: () => jwks.settled(),
  };
}
