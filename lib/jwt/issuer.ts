/**
 * Issues the short-lived JWT the gateway hands to backends (spec 7): HS256
 * over `jwt.secret` by default, or ES256/EdDSA/RS256 with the active
 * `jwt.keys[]` entry; claims in the original's order, `exp` capped by an
 * `exp` attribute, then the optional `aud` (`jwt.audience`), `nbf` and `jti`. Every token
 * carries a `kid`. The key is imported once (lib/jwt/keys.ts), never per request.
 *
 * Folder `lib/jwt/`: signing keys and issuing the downstream JWT. Imports `lib/util/`,
 * `lib/config/`, `lib/observability/`.
 *
 * @module
 */

import { SignJWT } from "jose";
import type { Config, JwtAlgorithm } from "../config/types.ts";
import type { SigningKey } from "./keys.ts";
import { base64url } from "../../packages/plugin/_host/hmac_sha256.ts";
import type { Logger } from "../observability/log.ts";
import type { ResolvedUser } from "../plugin.ts";

/** Signs tokens for users. */
export interface TokenIssuer {
  /** The JWS algorithm. */
  readonly alg: JwtAlgorithm;
  /** The `kid` header of every token. */
  readonly kid: string;
  /**
   * Returns a compact JWT for `user`, valid from `now` (epoch seconds): at
   * once for HS256 (signed in JavaScript), in a promise for the others (jose).
   */
  issue(user: ResolvedUser, now?: number): string | Promise<string>;
  /** The `exp` (epoch seconds) of the token `issue(user, now)` returns, without signing one. */
  expiry(user: ResolvedUser, now: number): number;
}

/** Secrets shorter than this get a startup warning. */
export const MIN_SECRET_BYTES = 32;
/** Lifetimes (`jwt.exp`, seconds) above this get a startup warning. */
export const MAX_QUIET_LIFETIME = 3600;

const INTEGER = /^[+-]?\d+$/;

/**
 * Shortest lifetime of an issued JWT, in seconds (or `jwt.exp` when shorter):
 * an `exp` attribute at or before now (an upstream JWT accepted inside its
 * `clock_skew_s` leeway) must never give a 200 with an already-expired JWT.
 */
export const MIN_ISSUED_LIFETIME_S = 5;

/**
 * The user's `exp` attribute in epoch seconds (a JWT provider copies the
 * token's `exp` claim there), when it is a base-10 integer; non-integers are
 * ignored, as in the original.
 */
export function expAttribute(user: ResolvedUser): number | undefined {
  const cap = user.attributes.exp;
  if (cap === undefined || !INTEGER.test(cap)) return undefined;
  const value = Number(cap);
  return Number.isSafeInteger(value) ? value : undefined;
}

/**
 * `now + jwt.exp`, lowered to the user's {@link expAttribute}, but never
 * below `now +` {@link MIN_ISSUED_LIFETIME_S}.
 */
function expiryFor(user: ResolvedUser, now: number, lifetime: number): number {
  const exp = now + lifetime;
  const cap = expAttribute(user);
  if (cap === undefined) return exp;
  return Math.min(exp, Math.max(cap, now + Math.min(lifetime, MIN_ISSUED_LIFETIME_S)));
}

/** The claims of spec 7.2, in order, then `aud`, `nbf` and `jti` when configured. */
export function claimsFor(
  user: ResolvedUser,
  jwt: Config["jwt"],
  now: number,
): Record<string, unknown> {
  const claims: Record<string, unknown> = {
    sub: `${user.realm}-${user.username}`,
    iss: jwt.iss,
    exp: expiryFor(user, now, jwt.exp),
    iat: now,
    roles: user.roles,
    username: user.username,
    scopes: user.scopes,
    realm: user.realm,
    attributes: user.attributes,
  };
  if (jwt.audience !== undefined) claims.aud = jwt.audience;
  if (jwt.includeNbf) claims.nbf = now;
  if (jwt.includeJti) claims.jti = crypto.randomUUID();
  return claims;
}

const encoder = new TextEncoder();

/** Unpadded base64url of the UTF-8 of `text` (as jose encodes a JWS header and payload). */
export function base64urlText(text: string): string {
  const bytes = encoder.encode(text);
  // Short inputs (every ordinary token) through the allocation-free encoder; its single
  // String.fromCharCode.apply would exceed the argument limit on a huge payload.
  if (bytes.length <= 8192) return base64url(bytes);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/**
 * Creates the issuer around an imported signing key. HS256 signs
 * synchronously with the key's precomputed HMAC (byte for byte what jose
 * produces: same header, same claims, same encoding); the asymmetric
 * algorithms sign with jose.
 */
export function createTokenIssuer(jwt: Config["jwt"], signer: SigningKey): TokenIssuer {
  const header = { typ: "JWT", alg: signer.alg, kid: signer.kid };
  const { hmac } = signer;
  if (hmac !== undefined) {
    const encodedHeader = base64urlText(JSON.stringify(header));
    return {
      alg: signer.alg,
      kid: signer.kid,
      expiry: (user, now) => expiryFor(user, now, jwt.exp),
      issue(user, now = Math.floor(Date.now() / 1000)) {
        const input = `${encodedHeader}.${
          base64urlText(JSON.stringify(claimsFor(user, jwt, now)))
        }`;
        return `${input}.${hmac(input)}`;
      },
    };
  }
  return {
    alg: signer.alg,
    kid: signer.kid,
    expiry: (user, now) => expiryFor(user, now, jwt.exp),
    issue(user, now = Math.floor(Date.now() / 1000)) {
      return new SignJWT(claimsFor(user, jwt, now)).setProtectedHeader(header).sign(signer.key);
    },
  };
}

/**
 * Logs the startup warnings about `jwt`: a weak HS256 secret, a long lifetime,
 * and a `jwt.aud` that is ignored (as in auth-o-tron) in favour of `jwt.audience`.
 */
export function warnAboutJwt(jwt: Config["jwt"], log: Logger): void {
  const secretBytes = new TextEncoder().encode(jwt.secret ?? "").length;
  if (jwt.algorithm === "HS256" && secretBytes < MIN_SECRET_BYTES) {
    log.warn("startup.jwt.weak_secret", "jwt.secret is shorter than 32 bytes; use a longer one", {
      min_bytes: MIN_SECRET_BYTES,
    });
  }
  if (jwt.exp > MAX_QUIET_LIFETIME) {
    log.warn(
      "startup.jwt.long_lifetime",
      "jwt.exp is longer than one hour; downstream tokens should be short-lived",
      { exp: jwt.exp, max_recommended: MAX_QUIET_LIFETIME },
    );
  }
  if (jwt.audIgnored) {
    log.warn(
      "startup.jwt.aud_ignored",
      "jwt.aud is ignored, as in auth-o-tron: issued tokens carry no aud claim; set jwt.audience to add one",
      { audience_configured: jwt.audience !== undefined },
    );
  }
}
