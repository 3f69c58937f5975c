/**
 * Turns a fetched JWKS body into an immutable key snapshot: asymmetric keys
 * go to jose's `createLocalJWKSet` (which matches `kty`/`crv` to `alg` and
 * refuses secret algorithms and private keys); `oct` keys are kept apart and
 * serve only HMAC algorithms. RSA keys whose modulus is outside
 * {@link MIN_RSA_BITS}–{@link MAX_RSA_BITS} are dropped (a huge modulus makes
 * every verification expensive). A body that is not a usable set is an
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
import { type PluginLogger, UpstreamUnavailableError } from "../../lib/plugin.ts";

/** Most keys a set may hold. */
export const MAX_JWKS_KEYS = 100;
/** Smallest RSA modulus kept, in bits. */
export const MIN_RSA_BITS = 2048;
/** Largest RSA modulus kept, in bits (verification cost grows with it). */
export const MAX_RSA_BITS = 8192;

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

/** Bit length of a base64url big-endian integer (leading zero bytes ignored); 0 when malformed. */
function bitLength(value: unknown): number {
  if (typeof value !== "string") return 0;
  let bytes: Uint8Array;
  try {
    bytes = base64url.decode(value);
  } catch {
    return 0;
  }
  const first = bytes.findIndex((byte) => byte !== 0);
  if (first < 0) return 0;
  return (bytes.length - first - 1) * 8 + Math.floor(Math.log2(bytes[first])) + 1;
}

/** Why an RSA key is dropped, or `undefined` when its modulus size is acceptable. */
function rsaDropReason(jwk: JWK): string | undefined {
  const bits = bitLength(jwk.n);
  if (bits === 0) return "RSA key without a valid modulus";
  if (bits < MIN_RSA_BITS) return `RSA modulus of ${bits} bits (at least ${MIN_RSA_BITS})`;
  if (bits > MAX_RSA_BITS) return `RSA modulus of ${bits} bits (at most ${MAX_RSA_BITS})`;
  return undefined;
}

/**
 * Checks a parsed JWKS body and builds its snapshot; throws when it is not a
 * usable set. Dropped keys are logged to `log` as `providers.jwks.key_dropped`.
 */
export function buildKeySnapshot(body: unknown, log?: PluginLogger): KeySnapshot {
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
      const reason = jwk.kty === "RSA" ? rsaDropReason(jwk) : undefined;
      if (reason !== undefined) {
        log?.warn("providers.jwks.key_dropped", "JWKS key dropped", {
          kid: typeof jwk.kid === "string" ? jwk.kid.slice(0, 64) : null,
          reason,
        });
        continue;
      }
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
