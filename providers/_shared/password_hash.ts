/**
 * PBKDF2-SHA256 password hashes in PHC string form, verified with WebCrypto:
 * `$pbkdf2-sha256$i=<iterations>$<salt>$<hash>` (base64, no padding).
 *
 * @module
 */

import { decodeBase64Strict, timingSafeEqual } from "../../lib/plugin.ts";
import { hashLimiter, verifiedCredentials } from "./hash_guard.ts";

/** A parsed password hash. */
export interface PasswordHash {
  /** PBKDF2 iteration count. */
  readonly iterations: number;
  /** Salt bytes. */
  readonly salt: Uint8Array;
  /** Derived key bytes. */
  readonly hash: Uint8Array;
}

/** OWASP's 2023 recommendation for PBKDF2-HMAC-SHA256. */
export const DEFAULT_ITERATIONS = 600_000;

/**
 * The most iterations a configured hash may ask for (D03): about 0.4 s per
 * verification on a 2024 server core; a hash above this is refused at startup.
 */
export const MAX_ITERATIONS = 2_000_000;

const PHC = /^\$pbkdf2-sha256\$i=(\d{1,8})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

function fromB64(text: string): Uint8Array | undefined {
  return decodeBase64Strict(text + "=".repeat((4 - text.length % 4) % 4));
}

function toB64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replace(/=+$/, "");
}

/** Parses a PHC PBKDF2-SHA256 string, or `undefined` when malformed. */
export function parsePasswordHash(text: string): PasswordHash | undefined {
  const m = PHC.exec(text);
  if (!m) return undefined;
  const iterations = Number(m[1]);
  const salt = fromB64(m[2]!);
  const hash = fromB64(m[3]!);
  if (
    iterations < 1 || iterations > MAX_ITERATIONS || !salt || !hash || salt.length < 8 ||
    hash.length < 16
  ) return undefined;
  return { iterations, salt, hash };
}

async function derive(password: string, salt: Uint8Array, iterations: number, length: number) {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(password),
    "PBKDF2",
    false,
    ["deriveBits"],
  );
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt: salt as BufferSource, iterations },
    key,
    length * 8,
  );
  return new Uint8Array(bits);
}

/**
 * True when `password` derives to the stored hash (constant-time comparison).
 * Derivations share a bounded, process-wide limiter: when it is saturated
 * this throws `UpstreamUnavailableError` (`overloaded`) at once. A credential
 * verified in the last minute is answered from an HMAC-keyed cache.
 */
export async function hashMatches(
  stored: PasswordHash,
  password: string,
  signal?: AbortSignal,
): Promise<boolean> {
  const key = verifiedCredentials.key(stored, password);
  if (verifiedCredentials.has(key)) return true;
  const derived = await hashLimiter.run(
    () => derive(password, stored.salt, stored.iterations, stored.hash.length),
    signal,
  );
  const ok = timingSafeEqual(derived, stored.hash);
  if (ok) verifiedCredentials.add(key);
  return ok;
}

/** Hashes a password for the config's `password_hash`. */
export async function hashPassword(
  password: string,
  iterations: number = DEFAULT_ITERATIONS,
): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const hash = await derive(password, salt, iterations, 32);
  return `$pbkdf2-sha256$i=${iterations}$${toB64(salt)}$${toB64(hash)}`;
}
