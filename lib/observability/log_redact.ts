/**
 * The logging safety net: turns event attributes into plain JSON values and
 * replaces the value of any key that looks like it holds a secret with
 * `[REDACTED]`. Call sites must still never pass credentials; this only
 * limits the damage when one slips through.
 *
 * @module
 */

import type { LogAttributes } from "../plugin.ts";

/** What a redacted value is replaced with. */
export const REDACTED = "[REDACTED]";

const SENSITIVE = /authorization|password|passwd|secret|token|api_?key|cookie|credential|jwt/;
// Sizes, counts, limits and kinds describe a secret without revealing it.
const DESCRIPTIVE = /(?:_length|_count|_ttl_seconds|_type)$|^max_/;
const MAX_DEPTH = 4;
// `scheme://user:password@host`: a connection string with its password.
const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^\s/:@]*:)[^\s/@]*@/gi;

/**
 * True when a value stored under `key` must not be logged: the lowercased key
 * names a secret (`password`, `token`, `client_secret`, …) and is not merely a
 * description of one (`token_length`, `roles_count`, `cache_ttl_seconds`,
 * `cache_key_type`, `max_credentials`).
 */
export function isSensitiveKey(key: string): boolean {
  const lower = key.toLowerCase();
  return SENSITIVE.test(lower) && !DESCRIPTIVE.test(lower);
}

/**
 * Builds the `attributes` of one event: `event.name`, `event.domain` (the
 * first dotted segment of `event`), the caller's attributes (sanitised and
 * redacted, passwords in `scheme://user:password@host` strings too) and
 * `code.target`. The reserved keys cannot be overwritten.
 */
export function buildAttributes(
  event: string,
  attributes: LogAttributes | undefined,
  target: string,
): Record<string, unknown> {
  const dot = event.indexOf(".");
  const out: Record<string, unknown> = {
    "event.name": event,
    "event.domain": dot < 0 ? event : event.slice(0, dot),
  };
  if (attributes) {
    for (const key in attributes) {
      if (key in out || key === "code.target") continue;
      out[key] = isSensitiveKey(key) ? REDACTED : toLogValue(attributes[key], 0);
    }
  }
  out["code.target"] = target;
  return out;
}

/**
 * Converts any value to plain JSON data, with the values of sensitive keys
 * (at any depth) and URL passwords replaced by `[REDACTED]`; used for plugin
 * `status()` output too.
 */
export function redactValue(value: unknown): unknown {
  return toLogValue(value, 0);
}

/** Converts any value to JSON-safe data, redacting nested sensitive keys. */
function toLogValue(value: unknown, depth: number): unknown {
  switch (typeof value) {
    case "string":
      return value.includes("@") ? value.replace(URL_PASSWORD, `$1${REDACTED}@`) : value;
    case "boolean":
      return value;
    case "number":
      return Number.isFinite(value) ? value : String(value);
    case "bigint":
    case "symbol":
    case "function":
      return String(value);
    case "undefined":
      return null;
  }
  if (value === null) return null;
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return typeof code === "string"
      ? `${value.name} [${code}]: ${value.message}`
      : `${value.name}: ${value.message}`;
  }
  if (value instanceof Date) return value.toISOString();
  if (depth >= MAX_DEPTH) return "[…]";
  if (Array.isArray(value)) return value.map((v) => toLogValue(v, depth + 1));
  if (value instanceof URL) return toLogValue(value.href, depth);
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    out[key] = isSensitiveKey(key) ? REDACTED : toLogValue(v, depth + 1);
  }
  return out;
}
