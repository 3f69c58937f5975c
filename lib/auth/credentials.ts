/**
 * Parses the `Authorization` header exactly as auth-o-tron does (spec 3.3):
 * comma-separated parts, exact duplicates skipped, at most three unique parts,
 * `Plain` as an alias of `Basic`, case-insensitive schemes, last one wins.
 *
 * @module
 */

/** At most this many unique comma-separated parts are accepted. */
export const MAX_CREDENTIALS = 3;

/** Longer `Authorization` values are rejected outright (bounded work per request). */
export const MAX_AUTHORIZATION_LENGTH = 16 * 1024;

/** Why a header could not be used. */
export type HeaderFailure = "no_auth_header" | "invalid_header";

/** Why an invalid header is invalid (for logs). */
export type InvalidHeaderDetail = "invalid_format" | "too_many_credentials" | "too_long";

/** The result of parsing `Authorization`. */
export type ParsedAuthorization =
  | {
    readonly ok: true;
    /** Normalised scheme → credential, in first-seen order (last credential wins). */
    readonly credentials: ReadonlyMap<string, string>;
    /** How many exact duplicate parts were skipped. */
    readonly duplicatesSkipped: number;
  }
  | {
    readonly ok: false;
    readonly reason: HeaderFailure;
    readonly detail?: InvalidHeaderDetail;
  };

const VISIBLE_ASCII = /^[\t\x20-\x7e]*$/;
const WHITESPACE = /\s+/;

/**
 * Reads a header the way the original does: a value with bytes outside
 * visible ASCII counts as absent.
 */
export function readAsciiHeader(headers: Headers, name: string): string | undefined {
  return visibleAscii(headers.get(name));
}

/** A header value as {@link readAsciiHeader} takes it: `undefined` unless visible ASCII. */
export function visibleAscii(value: string | null): string | undefined {
  return value !== null && VISIBLE_ASCII.test(value) ? value : undefined;
}

/**
 * What the pipeline gets for an `X-Auth-Realm` that is present but not
 * visible ASCII (or sent twice with such a value): it matches no provider,
 * so the request is 401. It never widens to "no realm filter" (#22 F2).
 */
export const UNREADABLE_REALM = "\u0000unreadable";

/**
 * Reads `X-Auth-Realm`: `undefined` when absent, the value when visible
 * ASCII, {@link UNREADABLE_REALM} otherwise.
 */
export function readRealmHeader(value: string | null): string | undefined {
  if (value === null) return undefined;
  return visibleAscii(value) ?? UNREADABLE_REALM;
}

/** Maps a scheme to its canonical form: `bearer` → `Bearer`, `basic`/`plain` → `Basic`. */
export function normaliseScheme(scheme: string): string {
  const lower = scheme.toLowerCase();
  if (lower === "bearer") return "Bearer";
  if (lower === "basic" || lower === "plain") return "Basic";
  return scheme;
}

/** Parses an `Authorization` value (already filtered by {@link readAsciiHeader}). */
export function parseAuthorization(value: string | undefined): ParsedAuthorization {
  if (value === undefined || value.trim() === "") {
    return { ok: false, reason: "no_auth_header" };
  }
  if (value.length > MAX_AUTHORIZATION_LENGTH) {
    return { ok: false, reason: "invalid_header", detail: "too_long" };
  }
  const seen = new Set<string>();
  const credentials = new Map<string, string>();
  let duplicatesSkipped = 0;
  for (const raw of value.split(",")) {
    const part = raw.trim();
    if (seen.has(part)) {
      duplicatesSkipped++;
      continue;
    }
    seen.add(part);
    if (seen.size > MAX_CREDENTIALS) {
      return { ok: false, reason: "invalid_header", detail: "too_many_credentials" };
    }
    const tokens = part === "" ? [] : part.split(WHITESPACE);
    if (tokens.length !== 2) {
      return { ok: false, reason: "invalid_header", detail: "invalid_format" };
    }
    const [scheme, credential] = tokens as [string, string];
    credentials.set(normaliseScheme(scheme), credential);
  }
  return { ok: true, credentials, duplicatesSkipped };
}
