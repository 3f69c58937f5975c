/**
 * `GET /.well-known/jwks.json` on the application listener: the public keys
 * backends verify downstream tokens with. Only public members are ever
 * serialised (an HS256 secret is never published: an HS256-only gateway
 * answers `{"keys":[]}`). Keys past their `not_after` drop out on their own.
 *
 * @module
 */

import type { PublishedKey } from "../jwt/keys.ts";
import type { Route } from "./router.ts";

/** The route pattern. */
export const JWKS_PATH = "/.well-known/jwks.json";
/** Media type of a JWK Set (RFC 7517 section 8.5). */
export const JWKS_CONTENT_TYPE = "application/jwk-set+json";
/** Upper bound of the JWKS `max-age`, in seconds. */
export const MAX_JWKS_AGE = 300;

/**
 * The JWKS `max-age`: `jwt.exp` capped at {@link MAX_JWKS_AGE}, never
 * negative. A rotation waits this long between publishing a key and signing
 * with it (docs/backends.md).
 */
function jwksMaxAge(lifetime: number): number {
  return Math.max(0, Math.min(MAX_JWKS_AGE, lifetime));
}

/** The JWK Set of the keys still published at `now` (epoch seconds). */
export function jwksBody(keys: readonly PublishedKey[], now: number): string {
  const live = keys.filter((k) => k.notAfter === undefined || k.notAfter > now);
  return JSON.stringify({ keys: live.map((k) => k.jwk) });
}

/** The JWKS route; `clock` returns epoch seconds (tests pass their own). */
export function jwksRoute(
  keys: readonly PublishedKey[],
  lifetime: number,
  clock: () => number = () => Math.floor(Date.now() / 1000),
): Route {
  const headers = {
    "content-type": JWKS_CONTENT_TYPE,
    "cache-control": `public, max-age=${jwksMaxAge(lifetime)}`,
  };
  // Keys only ever drop out as time passes, so the count identifies the body.
  let cached = { count: -1, body: "" };
  return {
    pattern: JWKS_PATH,
    methods: {
      GET: () => {
        const now = clock();
        const count = keys.filter((k) => k.notAfter === undefined || k.notAfter > now).length;
        if (count !== cached.count) cached = { count, body: jwksBody(keys, now) };
        return new Response(cached.body, { headers });
      },
    },
  };
}
