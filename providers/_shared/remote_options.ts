/**
 * Option readers shared by the remote providers (`ecmwf-api`, `efas-api`,
 * `openid-offline`, `ecmwf-token-generator`): required strings, upstream
 * URLs and cache lifetimes, each failing with an {@link OptionsError} that
 * names the key.
 *
 * @module
 */

import { missingOption, OptionsError, type PluginOptions } from "../../lib/plugin.ts";
import { checkTransport } from "./transport.ts";

/** A non-empty string option; throws naming `key` otherwise. */
export function requireString(options: PluginOptions, key: string): string {
  const value = options[key];
  if (value === undefined || value === null) throw missingOption(options, [key]);
  if (typeof value !== "string" || value === "") {
    throw new OptionsError([key], "expected a non-empty string");
  }
  return value;
}

/**
 * An `http:` or `https:` URL option, without embedded credentials; plain
 * `http:` only to loopback or with `allow_insecure_transport: true`.
 */
export function requireHttpUrl(options: PluginOptions, key: string): string {
  const value = requireString(options, key);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new OptionsError([key], `expected an http(s) URL, got "${value}"`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new OptionsError([key], `expected an http(s) URL, got "${value}"`);
  }
  if (url.username !== "" || url.password !== "") {
    throw new OptionsError([key], "the URL must not carry credentials");
  }
  checkTransport(options, [key], value);
  return value;
}

/** `base` (trailing slashes dropped) + `path` (starting with `/`). */
export function joinUrl(base: string, path: string): string {
  return base.replace(/\/+$/, "") + path;
}

/** A duration in seconds (a finite number ≥ 0), or `fallback` when the key is absent. */
export function seconds(options: PluginOptions, key: string, fallback: number): number {
  const value = options[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new OptionsError([key], "expected a number of seconds (0 or more)");
  }
  return value;
}

/** Lifetimes of one verdict cache, in milliseconds. */
export interface CacheLifetimes {
  /** How long an accepted credential is remembered. */
  readonly ttlMs: number;
  /** How long a rejected credential is remembered (never longer than `ttlMs`). */
  readonly negativeTtlMs: number;
  /** Bound on the number of entries. */
  readonly maxEntries: number;
}

/** The option keys {@link cacheLifetimes} reads besides its TTL key. */
export const CACHE_OPTION_KEYS: readonly string[] = ["negative_cache_ttl_s", "cache_max_entries"];

/** Default lifetime of a negative verdict. */
export const DEFAULT_NEGATIVE_TTL_S = 10;

/** Default bound of a provider cache. */
export const DEFAULT_MAX_ENTRIES = 10_000;

/**
 * Reads `<ttlKey>` (default `ttlS`), `negative_cache_ttl_s` (default 10 s,
 * capped at the positive TTL) and `cache_max_entries` (default 10 000).
 */
export function cacheLifetimes(
  options: PluginOptions,
  ttlKey: string,
  ttlS: number,
): CacheLifetimes {
  const ttl = seconds(options, ttlKey, ttlS);
  const negative = Math.min(seconds(options, "negative_cache_ttl_s", DEFAULT_NEGATIVE_TTL_S), ttl);
  const max = options.cache_max_entries ?? DEFAULT_MAX_ENTRIES;
  if (typeof max !== "number" || !Number.isInteger(max) || max < 1) {
    throw new OptionsError(["cache_max_entries"], "expected a whole number of 1 or more");
  }
  return { ttlMs: ttl * 1000, negativeTtlMs: negative * 1000, maxEntries: max };
}
