/**
 * Reads the `jwt` section: issuer, lifetime, the HS256 secret, and the
 * asymmetric signing options (`algorithm`, `keys`, `audience`, `include_jti`,
 * `include_nbf`). `jwt.aud` is ignored, as auth-o-tron does (only its presence
 * is kept, for a startup warning). Key material is only named here;
 * `lib/jwt/keys.ts` reads and imports it at startup.
 *
 * @module
 */

import type { Config, JwtAlgorithm, JwtKeyConfig, JwtKeySource } from "./types.ts";
import { type KeyPath, own, type Table } from "./tree.ts";
import { formatKeyPath } from "../util/errors.ts";
import {
  describe,
  fail,
  field,
  optionalField,
  type Read,
  readBoolean,
  type ReadContext,
  readInteger,
  readList,
  readNonEmptyString,
  readString,
  readTable,
} from "./read.ts";

/** Algorithms accepted in `jwt.algorithm`. */
export const JWT_ALGORITHMS: readonly JwtAlgorithm[] = ["HS256", "ES256", "EdDSA", "RS256"];

/** The keys of a `jwt.keys[]` entry that name key material (exactly one is required). */
export const JWT_KEY_SOURCES: readonly JwtKeySource[] = [
  "private_key",
  "private_key_file",
  "private_key_env",
  "public_key",
  "public_key_file",
];

const KID = /^[\x21-\x7e]{1,128}$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;
const readAnyInteger = readInteger();
const readEpoch = readInteger(0);

const readAlgorithm: Read<JwtAlgorithm> = (ctx, value, path) => {
  const text = readString(ctx, value, path);
  const found = JWT_ALGORITHMS.find((a) => a.toLowerCase() === text.trim().toLowerCase());
  return found ??
    fail(ctx, path, `expected one of ${JWT_ALGORITHMS.join(", ")}, got ${describe(value, path)}`);
};

const readAudience: Read<string | readonly string[]> = (ctx, value, path) => {
  if (!Array.isArray(value)) return readNonEmptyString(ctx, value, path);
  if (value.length === 0) fail(ctx, path, "must not be an empty list");
  return value.map((item, i) => readNonEmptyString(ctx, item, [...path, i]));
};

const readKid: Read<string> = (ctx, value, path) => {
  const kid = readString(ctx, value, path);
  return KID.test(kid)
    ? kid
    : fail(ctx, path, "must be 1 to 128 visible ASCII characters without spaces");
};

/** `not_after`: an ISO 8601 date-time with a zone, or epoch seconds. */
const readNotAfter: Read<number> = (ctx, value, path) => {
  if (typeof value === "number") return readEpoch(ctx, value, path);
  const text = value instanceof Date ? value.toISOString() : readString(ctx, value, path);
  const ms = ISO_DATE.test(text) ? Date.parse(text) : NaN;
  return Number.isNaN(ms)
    ? fail(
      ctx,
      path,
      `expected an ISO 8601 date-time with a zone (2026-12-01T00:00:00Z) or epoch seconds, got ${
        describe(value, path)
      }`,
    )
    : Math.floor(ms / 1000);
};

/** A read key plus whether `active` was written at all. */
interface ReadKey {
  readonly key: JwtKeyConfig;
  readonly activeGiven: boolean;
}

function readKey(ctx: ReadContext, value: unknown, path: KeyPath): ReadKey {
  const table = readTable(ctx, value, path);
  const given = JWT_KEY_SOURCES.filter((k) =>
    own(table, k) !== undefined && own(table, k) !== null
  );
  if (given.length !== 1) {
    fail(
      ctx,
      given.length === 0 ? path : [...path, given[1]!],
      `needs exactly one of ${JWT_KEY_SOURCES.join(", ")}`,
    );
  }
  const source = given[0]!;
  const kid = optionalField(ctx, table, [...path, "kid"], readKid);
  const active = optionalField(ctx, table, [...path, "active"], readBoolean);
  const notAfter = optionalField(ctx, table, [...path, "not_after"], readNotAfter);
  if (active === true && source.startsWith("public_")) {
    fail(ctx, [...path, "active"], `a public key cannot sign; give private_key* instead`);
  }
  if (active === true && notAfter !== undefined) {
    fail(ctx, [...path, "not_after"], "an active key must stay published; remove not_after");
  }
  const key: JwtKeyConfig = {
    path,
    source,
    value: field(ctx, table, [...path, source], readNonEmptyString),
    active: active ?? false,
    ...(kid === undefined ? {} : { kid }),
    ...(notAfter === undefined ? {} : { notAfter }),
  };
  return { key, activeGiven: active !== undefined };
}

/**
 * Resolves which key signs: exactly one for ES256/EdDSA/RS256 (a lone private
 * key without `active` is the one), none for HS256.
 */
function resolveActive(
  ctx: ReadContext,
  algorithm: JwtAlgorithm,
  read: readonly ReadKey[],
  path: KeyPath,
): JwtKeyConfig[] {
  const keys = read.map((r) => r.key);
  if (algorithm === "HS256") {
    const active = keys.find((k) => k.active);
    if (active) {
      fail(
        ctx,
        [...active.path, "active"],
        "HS256 signs with jwt.secret; keys are only published, so set active: false (or change jwt.algorithm)",
      );
    }
    return keys;
  }
  if (keys.length === 0) {
    fail(ctx, path, `is required when jwt.algorithm is ${algorithm}: list the signing key`);
  }
  const active = keys.filter((k) => k.active);
  if (active.length > 1) {
    fail(
      ctx,
      [...active[1]!.path, "active"],
      `only one key may be active; ${formatKeyPath(active[0]!.path)} is active too`,
    );
  }
  if (active.length === 0) {
    const lone = read.length === 1 && !read[0]!.activeGiven &&
      !keys[0]!.source.startsWith("public_");
    if (!lone) fail(ctx, path, "exactly one key needs active: true");
    return [{ ...keys[0]!, active: true }];
  }
  return keys;
}

/** Reads the `jwt` section (spec 2.4.4 plus the signing options of docs/backends.md). */
export const readJwt: Read<Config["jwt"]> = (ctx, value, path) => {
  const table: Table = readTable(ctx, value, path);
  const iss = field(ctx, table, [...path, "iss"], readString);
  const exp = field(ctx, table, [...path, "exp"], readAnyInteger);
  const algorithm = field(ctx, table, [...path, "algorithm"], readAlgorithm, "HS256");
  const secretPath = [...path, "secret"];
  const secret = algorithm === "HS256"
    ? field(ctx, table, secretPath, readNonEmptyString)
    : optionalField(ctx, table, secretPath, readNonEmptyString);
  const keysPath = [...path, "keys"];
  const keys = readList(ctx, own(table, "keys") ?? [], keysPath)
    .map((item, i) => readKey(ctx, item, [...keysPath, i]));
  const audience = optionalField(ctx, table, [...path, "audience"], readAudience);
  return {
    iss,
    exp,
    ...(secret === undefined ? {} : { secret }),
    ...(audience === undefined ? {} : { audience }),
    audIgnored: own(table, "aud") !== undefined,
    algorithm,
    keys: resolveActive(ctx, algorithm, keys, keysPath),
    includeJti: field(ctx, table, [...path, "include_jti"], readBoolean, false),
    includeNbf: field(ctx, table, [...path, "include_nbf"], readBoolean, false),
  };
};
