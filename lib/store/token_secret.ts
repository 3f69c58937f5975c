/**
 * Opaque token secrets: 256 random bits with a fixed `aot_` prefix (so secret
 * scanners can spot a leaked one), stored only as a SHA-256 hash.
 *
 * @module
 */

import { base64url } from "../../packages/plugin/_host/hmac_sha256.ts";

/** The prefix of every token this gateway issues. */
export const TOKEN_PREFIX = "aot_";
/** Random bytes per token (256 bits). */
const SECRET_BYTES = 32;
/** Characters of the token shown by `GET /tokens` to tell tokens apart (prefix + 8). */
const DISPLAY_LENGTH = TOKEN_PREFIX.length + 8;
const TOKEN_SHAPE = /^aot_[A-Za-z0-9_-]{43}$/;

/** A fresh token: `aot_` followed by 43 base64url characters (256 bits from `crypto.getRandomValues`). */
export function generateToken(): string {
  return TOKEN_PREFIX + base64url(crypto.getRandomValues(new Uint8Array(SECRET_BYTES)));
}

/** True when `value` has the exact shape of a token this gateway issues. */
export function isTokenShaped(value: string): boolean {
  return TOKEN_SHAPE.test(value);
}

const LEGACY_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * True when `value` has the shape of an auth-o-tron token (a lower-case UUID,
 * as its store issued them); such tokens exist here only when imported with
 * `deno task import-tokens`.
 */
export function isLegacyTokenShaped(value: string): boolean {
  return LEGACY_SHAPE.test(value);
}

/** The SHA-256 of the token's UTF-8 bytes, as lower-case hex: the only form ever stored. */
export async function hashToken(token: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The non-secret part shown in listings, e.g. `aot_Xq3v9LbA`. */
export function displayPrefix(token: string): string {
  return token.slice(0, DISPLAY_LENGTH);
}
