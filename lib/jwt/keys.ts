/**
 * Loads the downstream-token keys once, at startup: the HS256 secret, or the
 * `jwt.keys[]` PEM/JWK material from inline text, files or environment
 * variables. It yields the signing key (a non-extractable `CryptoKey`) and
 * the public JWKs to publish. Key material never appears in an error: every
 * failure is a {@link ConfigError} naming the file, line and key path.
 *
 * @module
 */

import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { calculateJwkThumbprint, importJWK, type JWK } from "jose";
import { fail } from "../config/read.ts";
import type { Config, JwtAlgorithm, JwtKeyConfig } from "../config/types.ts";
import { formatKeyPath } from "../util/errors.ts";
import { createHmacSha256 } from "../../packages/plugin/_host/hmac_sha256.ts";

/** The key that signs every issued token. */
export interface SigningKey {
  /** The JWS `alg`. */
  readonly alg: JwtAlgorithm;
  /** The `kid` header of every token. */
  readonly kid: string;
  /** The imported key (never extractable). */
  readonly key: CryptoKey;
  /**
   * HS256 only: HMAC-SHA256 under `jwt.secret` as base64url, with the key's
   * pads computed once at startup. Signs synchronously (~2 µs for a token),
   * where `crypto.subtle.sign` costs a promise turn and a thread hop per token.
   */
  readonly hmac?: (signingInput: string) => string;
}

/** A public key for `/.well-known/jwks.json`. */
export interface PublishedKey {
  /** Public members only, plus `kid`, `alg` and `use`. */
  readonly jwk: JWK;
  /** Epoch seconds after which it is no longer published. */
  readonly notAfter?: number;
}

/** Everything the issuer and the JWKS route need. */
export interface JwtKeys {
  /** The signer. */
  readonly signer: SigningKey;
  /** The published public keys, in config order. */
  readonly published: readonly PublishedKey[];
}

/** Key files larger than this are refused. */
export const MAX_KEY_BYTES = 64 * 1024;
/** RSA keys shorter than this are refused. */
export const MIN_RSA_BITS = 2048;

const PUBLIC_MEMBERS = ["kty", "crv", "x", "y", "n", "e"] as const;

/**
 * The HS256 `kid`: `hs256-` and the base64url of the first 12 bytes of
 * SHA-256(`aot-hs256:` + secret). It identifies the secret without revealing it.
 */
export async function hs256Kid(secret: string): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(`aot-hs256:${secret}`),
  );
  const bytes = new Uint8Array(digest, 0, 12);
  const b64 = btoa(String.fromCharCode(...bytes));
  return `hs256-${b64.replaceAll("+", "-").replaceAll("/", "_")}`;
}

/** Loads and imports every configured key; `env` serves `private_key_env`. */
export async function loadJwtKeys(
  config: Config,
  env: Record<string, string> = Deno.env.toObject(),
): Promise<JwtKeys> {
  const { jwt } = config;
  const ctx = { locate: config.locate };
  const published: PublishedKey[] = [];
  const kids = new Map<string, JwtKeyConfig>();
  let signer: SigningKey | undefined;
  for (const entry of jwt.keys) {
    const object = parseKey(config, entry, await keyText(config, entry, env));
    const alg = algorithmOf(config, entry, object);
    const jwk = publicJwk(object);
    const kid = entry.kid ?? await calculateJwkThumbprint(jwk, "sha256");
    const clash = kids.get(kid);
    if (clash) {
      fail(
        ctx,
        entry.path,
        `kid ${JSON.stringify(kid)} is already used by ${formatKeyPath(clash.path)}`,
      );
    }
    kids.set(kid, entry);
    published.push({
      jwk: { ...jwk, kid, alg, use: "sig" },
      ...(entry.notAfter === undefined ? {} : { notAfter: entry.notAfter }),
    });
    if (!entry.active) continue;
    if (alg !== jwt.algorithm) {
      fail(ctx, entry.path, `is a key for ${alg}, but jwt.algorithm is ${jwt.algorithm}`);
    }
    const key = await importJWK(object.export({ format: "jwk" }) as JWK, alg);
    signer = { alg, kid, key: key as CryptoKey };
  }
  if (jwt.algorithm === "HS256") {
    const key = await crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(jwt.secret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    const hmac = createHmacSha256(new TextEncoder().encode(jwt.secret));
    signer = { alg: "HS256", kid: await hs256Kid(jwt.secret ?? ""), key, hmac };
  }
  // lib/config/jwt.ts guarantees one active key for the asymmetric algorithms.
  if (!signer) fail(ctx, ["jwt", "keys"], "exactly one key needs active: true");
  return { signer, published };
}

async function keyText(
  config: Config,
  entry: JwtKeyConfig,
  env: Record<string, string>,
): Promise<string> {
  const path = [...entry.path, entry.source];
  const ctx = { locate: config.locate };
  if (entry.source === "private_key" || entry.source === "public_key") return entry.value;
  if (entry.source === "private_key_env") {
    const text = env[entry.value];
    if (text === undefined || text === "") {
      fail(ctx, path, `the environment variable ${entry.value} is not set or empty`);
    }
    return text;
  }
  const url = new URL(entry.value, config.fileUrl);
  try {
    const info = await Deno.stat(url);
    if (!info.isFile) fail(ctx, path, `${entry.value} is not a regular file`);
    if (info.size > MAX_KEY_BYTES) {
      fail(ctx, path, `${entry.value} is larger than ${MAX_KEY_BYTES} bytes`);
    }
    return await Deno.readTextFile(url);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound || error instanceof Deno.errors.PermissionDenied)) {
      throw error;
    }
    const why = error instanceof Deno.errors.NotFound
      ? "does not exist"
      : "cannot be read (permission denied)";
    return fail(ctx, path, `${entry.value} ${why}`);
  }
}

function parseKey(config: Config, entry: JwtKeyConfig, text: string): KeyObject {
  const wantPrivate = entry.source.startsWith("private_");
  const trimmed = text.trim();
  try {
    const input = trimmed.startsWith("{")
      ? { key: JSON.parse(trimmed), format: "jwk" as const }
      : trimmed;
    return wantPrivate ? createPrivateKey(input) : createPublicKey(input);
  } catch {
    // The parser's message may quote the input, so it is dropped on purpose.
    return fail(
      { locate: config.locate },
      [...entry.path, entry.source],
      wantPrivate
        ? 'is not a private key: expected PEM (PKCS#8 "BEGIN PRIVATE KEY") or a private JWK'
        : 'is not a public key: expected PEM ("BEGIN PUBLIC KEY") or a public JWK',
    );
  }
}

function algorithmOf(config: Config, entry: JwtKeyConfig, key: KeyObject): JwtAlgorithm {
  const unsupported = (what: string): never =>
    fail(
      { locate: config.locate },
      [...entry.path, entry.source],
      `is ${what}; supported: Ed25519 (EdDSA), EC P-256 (ES256), RSA of ${MIN_RSA_BITS}+ bits (RS256)`,
    );
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case "ed25519":
      return "EdDSA";
    case "ec":
      return details.namedCurve === "prime256v1"
        ? "ES256"
        : unsupported(`an EC key on curve ${details.namedCurve}`);
    case "rsa":
      return (details.modulusLength ?? 0) >= MIN_RSA_BITS
        ? "RS256"
        : unsupported(`an RSA key of ${details.modulusLength} bits`);
    default:
      return unsupported(`a key of type ${key.asymmetricKeyType ?? "unknown"}`);
  }
}

/** The public members of `key` as a JWK (nothing private can slip through). */
function publicJwk(key: KeyObject): JWK {
  const pub = key.type === "public" ? key : createPublicKey(key);
  const full = pub.export({ format: "jwk" }) as Record<string, string>;
  const out: Record<string, string> = {};
  for (const member of PUBLIC_MEMBERS) if (full[member] !== undefined) out[member] = full[member];
  return out as JWK;
}
