/**
 * Turns a fetched JWKS body into an immutable key snapshot: asymmetric keys
 * go to jose's `createLocalJWKSet` (which matches `kty`/`crv` to `alg` and
 * refuses secret algorithms and private keys); `oct` keys are kept apart and
 * serve only HMAC algorithms. A body that is not a usable set is an
 * {@link UpstreamUnavailableError} of kind `invalid_jwks`, so it never
 * replaces a good set.
 *
 * @module
 */

import {
  base64url,
  createLocalJWKSet,
  errors,
  type JSONWebKeySet,
  type JWK,
  type JWSHeaderParameters,
} from "jose";
import { UpstreamUnavailableError } from "../lib/plugin.ts";

/** Most keys a set may hold. */
export const MAX_JWKS_KEYS = 100;

const ASYMMETRIC = new Set(["RSA", "EC", "OKP"]);
/** The only HMAC algorithm served by `oct` keys (HS256 is refused, as in the original). */
const HMAC = new Set(["HS512"]);

/** The keys of one good JWKS fetch. */
export interface KeySnapshot {
  /** Every `kid` in the set, whatever the key type. */
  readonly kids: ReadonlySet<string>;
  /** Number of keys kept. */
  readonly size: number;
  /** Finds the verification key for a protected header (a jose key function). */
  resolve(header: JWSHeaderParameters): Promise<CryptoKey | Uint8Array>;
}

function invalid(message: string): UpstreamUnavailableError {
  return new UpstreamUnavailableError(`JWKS rejected: ${message}`, "invalid_jwks");
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The HMAC secret of an `oct` key usable for `alg`, if any. */
function octSecret(jwk: JWK, alg: string): Uint8Array | undefined {
  if (jwk.alg !== undefined && jwk.alg !== alg) return undefined;
  if (jwk.use !== undefined && jwk.use !== "sig") return undefined;
  if (typeof jwk.k !== "string" || jwk.k === "") return undefined;
  try {
    return base64url.decode(jwk.k);
  } catch {
    return undefined;
  }
}

/** Checks a parsed JWKS body and builds its snapshot; throws when it is not a usable set. */
export function buildKeySnapshot(body: unknown): KeySnapshot {
  if (!isRecord(body) || !Array.isArray(body.keys)) throw invalid('expected {"keys": [...]}');
  if (body.keys.length > MAX_JWKS_KEYS) {
    throw invalid(`${body.keys.length} keys (at most ${MAX_JWKS_KEYS})`);
  }
  const asymmetric: JWK[] = [];
  const oct = new Map<string, JWK>();
  const kids = new Set<string>();
  for (const raw of body.keys) {
    if (!isRecord(raw) || typeof raw.kty !== "string") continue;
    const jwk = raw as JWK;
    if (ASYMMETRIC.has(jwk.kty!) && jwk.d === undefined) {
      asymmetric.push(jwk);
    } else if (jwk.kty === "oct" && typeof jwk.kid === "string") {
      if (!oct.has(jwk.kid)) oct.set(jwk.kid, jwk);
    } else {
      continue;
    }
    if (typeof jwk.kid === "string") kids.add(jwk.kid);
  }
  const size = asymmetric.length + oct.size;
  if (size === 0) throw invalid("no usable keys");
  let local: ReturnType<typeof createLocalJWKSet>;
  try {
    local = createLocalJWKSet({ keys: asymmetric } as JSONWebKeySet);
  } catch (error) {
    throw invalid(error instanceof Error ? error.message : "malformed");
  }
  return {
    kids,
    size,
    resolve(header) {
      const alg = header.alg ?? "";
      if (!HMAC.has(alg)) return local(header);
      const jwk = typeof header.kid === "string" ? oct.get(header.kid) : undefined;
      const secret = jwk && octSecret(jwk, alg);
      return secret ? Promise.resolve(secret) : Promise.reject(new errors.JWKSNoMatchingKey());
    },
  };
}
