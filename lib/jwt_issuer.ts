/**
 * Issues the short-lived JWT the gateway hands to backends (spec 7): HS256
 * over `jwt.secret`, claims in the original's order, `exp` capped by an `exp`
 * attribute. The key is imported once, never per request.
 *
 * @module
 */

import { SignJWT } from "jose";
import type { Config } from "./config_types.ts";
import type { ResolvedUser } from "./plugin.ts";

/** Signs tokens for users. */
export interface TokenIssuer {
  /** Returns a compact JWT for `user`, valid from `now` (epoch seconds). */
  issue(user: ResolvedUser, now?: number): Promise<string>;
}

/** Secrets shorter than this get a startup warning. */
export const MIN_SECRET_BYTES = 32;

const INTEGER = /^[+-]?\d+$/;

/**
 * `now + jwt.exp`, lowered to the user's `exp` attribute when that is a
 * base-10 integer (non-integers are ignored, as in the original).
 */
export function expiryFor(user: ResolvedUser, now: number, lifetime: number): number {
  const exp = now + lifetime;
  const cap = user.attributes.exp;
  if (cap === undefined || !INTEGER.test(cap)) return exp;
  const value = Number(cap);
  return Number.isSafeInteger(value) ? Math.min(exp, value) : exp;
}

/** The claims of spec 7.2, in order. */
export function claimsFor(
  user: ResolvedUser,
  jwt: Config["jwt"],
  now: number,
): Record<string, unknown> {
  return {
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
}

/** Creates the HS256 issuer; the key is imported here, once. */
export async function createHs256Issuer(jwt: Config["jwt"]): Promise<TokenIssuer> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(jwt.secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return {
    issue(user, now = Math.floor(Date.now() / 1000)) {
      return new SignJWT(claimsFor(user, jwt, now))
        .setProtectedHeader({ typ: "JWT", alg: "HS256" })
        .sign(key);
    },
  };
}
