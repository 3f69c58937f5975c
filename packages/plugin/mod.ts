/**
 * The public plugin contract of Auth-O-Tron.
 *
 * This is the only module a provider or augmenter needs. Built-in plugins use
 * exactly this contract; there is no private back door. A third-party plugin
 * may import these types (and the small helpers below) or import nothing at all:
 * the host checks the shape of every plugin at run time.
 *
 * @example A provider in one file
 * ```ts
 * import { defineProvider } from "@authotron/plugin";
 *
 * export default defineProvider({
 *   scheme: "Bearer",
 *   create(options) {
 *     const token = String(options.token);
 *     return {
 *       authenticate(credential) {
 *         return credential === token ? { username: "robot" } : undefined;
 *       },
 *     };
 *   },
 * });
 * ```
 *
 * @module
 */

import { createCredentialKeyer } from "./_host/credential_key.ts";
import { closestName } from "./_host/closest_name.ts";

/** The credential scheme a provider handles (the first word of `Authorization`). */
export type Scheme = "Basic" | "Bearer";

/**
 * A user as a provider returns it. The host fills in what is missing:
 * `realm` defaults to the realm of the provider's config entry, the rest to empty.
 */
export interface User {
  /** The login name; becomes the `username` claim and part of `sub`. */
  username: string;
  /** The realm; defaults to the provider entry's realm. */
  realm?: string;
  /** Roles, in order. */
  roles?: string[];
  /** String attributes; an `exp` attribute (epoch seconds) caps the issued JWT. */
  attributes?: Record<string, string>;
  /** Scopes keyed by service (in practice the provider name). */
  scopes?: Record<string, string[]>;
}

/** A user as the host hands it to augmenters: every field present, read-only. */
export interface ResolvedUser {
  /** Always 1 (the shared User payload version). */
  readonly version: 1;
  /** The login name. */
  readonly username: string;
  /** The realm. */
  readonly realm: string;
  /** Roles, in order. */
  readonly roles: readonly string[];
  /** String attributes. */
  readonly attributes: Readonly<Record<string, string>>;
  /** Scopes keyed by service. */
  readonly scopes: Readonly<Record<string, readonly string[]>>;
}

/** What an augmenter returns: roles to append and attributes to upsert. */
export interface UserPatch {
  /** Roles to append (the host skips roles the user already has). */
  roles?: string[];
  /** Attributes to add or overwrite. */
  attributes?: Record<string, string>;
}

/** Structured values a log line may carry. Never put a credential here. */
export type LogAttributes = Record<string, unknown>;

/**
 * A logger scoped to one plugin. `event` is a dotted event name such as
 * `providers.jwt.cache.hit`; `message` is for humans.
 */
export interface PluginLogger {
  /** Detail for debugging. */
  debug(event: string, message: string, attributes?: LogAttributes): void;
  /** Normal operation. */
  info(event: string, message: string, attributes?: LogAttributes): void;
  /** Something an operator should look at. */
  warn(event: string, message: string, attributes?: LogAttributes): void;
  /** A failure. */
  error(event: string, message: string, attributes?: LogAttributes): void;
}

/** Per-call context the host passes to `authenticate` and `augment`. */
export interface CallContext {
  /** Aborted when the call's timeout expires or another provider already won. */
  readonly signal: AbortSignal;
  /** The plugin's logger. */
  readonly log: PluginLogger;
  /** The `X-Auth-Realm` the client asked for, if any (already matched for realm-bound providers). */
  readonly realmHint?: string;
  /**
   * Present only while a decision is being explained (`GET /explain`, or the
   * `debug` log level): a provider that refuses the credential may say why
   * with a short fixed phrase such as `unknown user` or `expired` (lower-case
   * words, at most 64 characters; anything else is ignored). Never pass the
   * credential, a username or an upstream's message.
   */
  readonly explain?: (reason: string) => void;
}

/** One-time context the host passes to `create`. */
export interface PluginContext {
  /** The entry's `name`. */
  readonly name: string;
  /** The entry's `realm`. */
  readonly realm: string;
  /** The entry's `type`, or its `module` specifier. */
  readonly type: string;
  /** The URL of the config file; resolve relative paths against it. */
  readonly configUrl: URL;
  /** The plugin's logger. */
  readonly log: PluginLogger;
  /** The shared upstream HTTP layer (size caps, no redirects, failures classified). */
  readonly http: UpstreamHttp;
  /**
   * A bounded LRU + TTL cache with single-flight loading, counted in the
   * gateway's cache metrics under `name`.
   */
  createCache<V>(name: string, options: PluginCacheOptions): PluginCache<V>;
  /**
   * A stable, non-reversible cache key for a credential (an HMAC with a
   * per-process secret). Never key a cache by the raw credential.
   */
  credentialKey(credential: string): string;
}

/** Settings of a plugin cache. */
export interface PluginCacheOptions {
  /** Time to live in milliseconds. */
  readonly ttlMs: number;
  /** At most this many entries (default 10 000). */
  readonly maxEntries?: number;
}

/** A bounded cache offered to plugins. */
export interface PluginCache<V> {
  /** The fresh value, if any. */
  get(key: string): V | undefined;
  /** Stores a value (`ttlMs` defaults to the cache's; 0 stores nothing). */
  set(key: string, value: V, ttlMs?: number): void;
  /** Forgets a key. */
  delete(key: string): void;
  /**
   * The cached value or the result of `load`, shared by concurrent callers of
   * the same key; `ttlFor` picks a TTL per value; failed loads are not cached.
   */
  getOrLoad(key: string, load: () => Promise<V>, ttlFor?: (value: V) => number): Promise<V>;
  /** Entries held. */
  readonly size: number;
}

/** One request to an identity service through {@link UpstreamHttp}. */
export interface UpstreamRequest {
  /** Defaults to GET. */
  readonly method?: "GET" | "POST";
  /** Query parameters, URL-encoded and appended. */
  readonly query?: Readonly<Record<string, string>>;
  /** Request headers. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Sent as `application/x-www-form-urlencoded`. */
  readonly form?: Readonly<Record<string, string>>;
  /** Sent as `application/json`. */
  readonly json?: unknown;
  /** HTTP Basic credentials (UTF-8). */
  readonly basicAuth?: { readonly username: string; readonly password: string };
  /** Bounds the whole exchange, body included. */
  readonly signal: AbortSignal;
  /** Body size cap in bytes (default 1 MiB). */
  readonly maxBytes?: number;
}

/** A real answer from an identity service (below 500, not 429, not a redirect). */
export interface UpstreamResponse {
  /** HTTP status. */
  readonly status: number;
  /** Response headers. */
  readonly headers: Headers;
  /** The body as UTF-8 text. */
  readonly text: string;
  /** The body as JSON; throws {@link UpstreamUnavailableError} (`invalid_response`) otherwise. */
  json(): unknown;
}

/**
 * HTTP for plugins. Timeouts (the signal), refused connections, 5xx, 429,
 * redirects and oversized bodies throw {@link UpstreamUnavailableError}.
 */
export interface UpstreamHttp {
  /** Sends one request. */
  request(url: string | URL, request: UpstreamRequest): Promise<UpstreamResponse>;
}

/** A live provider, as `create` returns it. */
export interface Provider {
  /**
   * Validates a credential. Resolve to a user to accept it; resolve to
   * `undefined` when it is not yours or not valid. Throw
   * {@link CredentialRejectedError} when you recognise it as yours and reject
   * it (401 even if another provider cannot decide), and
   * {@link UpstreamUnavailableError} when you cannot decide (your upstream is
   * down, slow or broken); any other throw counts as a rejection and is logged.
   */
  authenticate(
    credential: string,
    ctx: CallContext,
  ): Promise<User | undefined> | User | undefined;
  /**
   * The realm used for `X-Auth-Realm` filtering, challenges and metrics, when it
   * differs from the entry's realm (the `efas-api` provider uses `efas`).
   */
  readonly filterRealm?: string;
  /**
   * Optional health details for the metrics listener's `/status` (JSON-able,
   * never a secret), e.g. `{ jwks: [{ uri, age_seconds, last_error }] }`.
   */
  status?(): Record<string, unknown>;
  /** Optional teardown, run at shutdown. */
  [Symbol.asyncDispose]?(): Promise<void>;
}

/** A live augmenter, as `create` returns it. */
export interface Augmenter {
  /** Returns what to add to the user. It must not mutate `user`. */
  augment(
    user: ResolvedUser,
    ctx: CallContext,
  ): Promise<UserPatch | undefined> | UserPatch | undefined;
  /** Optional health details for `/status` (JSON-able, never a secret). */
  status?(): Record<string, unknown>;
  /** Optional teardown, run at shutdown. */
  [Symbol.asyncDispose]?(): Promise<void>;
}

/** Plugin options: every key of the config entry except the host keys. */
export type PluginOptions = Record<string, unknown>;

/** The default export of a provider module. */
export interface ProviderModule<O = PluginOptions> {
  /** The scheme this provider handles. */
  readonly scheme: Scheme;
  /**
   * Optional: every option key the plugin reads. When given, the host reports
   * each other key of the entry as unknown (`config.unknown_key`, with a
   * "did you mean" suggestion) instead of passing it by silently.
   */
  readonly optionKeys?: readonly string[];
  /**
   * Optional, pure, no I/O: checks and normalises the options. Throw
   * {@link OptionsError} naming the offending key. Used by `check-config` too.
   */
  parseOptions?(options: PluginOptions): O;
  /** Builds the live provider once, at startup. */
  create(options: O, context: PluginContext): Provider | Promise<Provider>;
}

/** The default export of an augmenter module. */
export interface AugmenterModule<O = PluginOptions> {
  /**
   * Run after every parallel augmenter, one by one in config order, so it sees
   * their roles (as `plain_advanced` does). Default: parallel.
   */
  readonly serial?: boolean;
  /**
   * Optional: every option key the plugin reads. When given, the host reports
   * each other key of the entry as unknown (`config.unknown_key`, with a
   * "did you mean" suggestion) instead of passing it by silently.
   */
  readonly optionKeys?: readonly string[];
  /** Optional, pure, no I/O: checks and normalises the options. */
  parseOptions?(options: PluginOptions): O;
  /** Builds the live augmenter once, at startup. */
  create(options: O, context: PluginContext): Augmenter | Promise<Augmenter>;
}

/** Identity helper that gives a provider module type inference. */
export function defineProvider<O = PluginOptions>(
  module: ProviderModule<O>,
): ProviderModule<O> {
  return module;
}

/** Identity helper that gives an augmenter module type inference. */
export function defineAugmenter<O = PluginOptions>(
  module: AugmenterModule<O>,
): AugmenterModule<O> {
  return module;
}

/**
 * Thrown by a plugin that could not decide: its upstream was unreachable, slow
 * or broken. The host answers `auth.upstream_failure_status` (503 by default)
 * instead of 401 when no other provider accepted the credential.
 */
export class UpstreamUnavailableError extends Error {
  /** Stable code for logs and metrics. */
  readonly code = "ERR_UPSTREAM_UNAVAILABLE";
  /** What went wrong, for metrics: `timeout`, `refused`, `5xx`, `429`, `invalid_response`, … */
  readonly kind: string;
  /** Creates the error; `kind` classifies the failure. */
  constructor(message: string, kind: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UpstreamUnavailableError";
    this.kind = kind;
  }
}

/**
 * Thrown by a provider that recognises the credential as its own (for a JWT:
 * its `kid` is in the provider's key set, or its `iss` is the provider's
 * issuer) and rejects it. It counts as a rejection, and the answer is 401
 * even when another provider could not decide: another identity service's
 * outage must not turn this provider's definitive "no" into a 503.
 */
export class CredentialRejectedError extends Error {
  /** Stable code for logs. */
  readonly code = "ERR_CREDENTIAL_REJECTED";
  /** Creates the error; `reason` says why (never the credential). */
  constructor(reason: string) {
    super(reason);
    this.name = "CredentialRejectedError";
  }
}

/** Thrown by `parseOptions` for a bad option; `path` is relative to the entry. */
export class OptionsError extends Error {
  /** Stable code. */
  readonly code = "ERR_PLUGIN_OPTIONS";
  /** Key path inside the entry, such as `["users", 0, "password"]`. */
  readonly path: readonly (string | number)[];
  /** Creates the error for the option at `path`. */
  constructor(path: readonly (string | number)[], message: string) {
    super(message);
    this.name = "OptionsError";
    this.path = path;
  }
}

/**
 * The {@link OptionsError} for a required option that is missing, worded as
 * the host words its own: `is required`, plus `(found "ur": did you mean
 * uri?)` when a given key in the same mapping is close to it.
 */
export function missingOption(
  given: PluginOptions,
  path: readonly (string | number)[],
  what?: string,
): OptionsError {
  const key = String(path[path.length - 1]);
  const near = closestName(key, Object.keys(given));
  const found = near === undefined ? "" : ` (found ${JSON.stringify(near)}: did you mean ${key}?)`;
  return new OptionsError(path, `is required${what === undefined ? "" : `: ${what}`}${found}`);
}

const encoder = new TextEncoder();

/**
 * A keyed one-way digest under a secret drawn when it is created (HMAC-SHA256,
 * 43 base64url characters, computed synchronously): equal texts give equal
 * digests, and every digest has the same length, so comparing a digest with
 * {@link timingSafeEqual} takes the same time whatever the texts' lengths.
 * Lets a provider compare secrets of different lengths without the length
 * showing in the time taken.
 */
export function createSecretDigest(): (text: string) => string {
  return createCredentialKeyer();
}

/**
 * Compares two secrets in time that depends only on their lengths, not on
 * where they differ. Both are compared as UTF-8 bytes.
 */
export function timingSafeEqual(
  a: string | Uint8Array,
  b: string | Uint8Array,
): boolean {
  // Two strings that are both ASCII (every Basic password that is): compared per UTF-16
  // unit, which is their UTF-8 byte, without encoding them (two native calls per compare).
  if (typeof a === "string" && typeof b === "string" && isAscii(a) && isAscii(b)) {
    const length = Math.max(a.length, b.length);
    let diff = a.length ^ b.length;
    for (let i = 0; i < length; i++) {
      diff |= (a.charCodeAt(i % (a.length || 1)) | 0) ^ (b.charCodeAt(i % (b.length || 1)) | 0);
    }
    return diff === 0;
  }
  const x = typeof a === "string" ? encoder.encode(a) : a;
  const y = typeof b === "string" ? encoder.encode(b) : b;
  const length = Math.max(x.length, y.length);
  let diff = x.length ^ y.length;
  for (let i = 0; i < length; i++) {
    diff |= (x[i % (x.length || 1)] ?? 0) ^ (y[i % (y.length || 1)] ?? 0);
  }
  return diff === 0;
}

const NON_ASCII = /[\u0080-\uffff]/;

/** True when every UTF-16 unit of `text` is below 0x80 (its UTF-8 is the same units). */
function isAscii(text: string): boolean {
  return !NON_ASCII.test(text);
}

const BASE64_CANONICAL = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Decodes standard base64 strictly: standard alphabet, canonical padding and
 * zero trailing bits, else `undefined`.
 */
export function decodeBase64Strict(text: string): Uint8Array | undefined {
  const binary = decodeBase64Binary(text);
  if (binary === undefined) return undefined;
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** {@link decodeBase64Strict} as a binary string (one char per byte), or `undefined`. */
function decodeBase64Binary(text: string): string | undefined {
  if (!BASE64_CANONICAL.test(text)) return undefined;
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    return undefined;
  }
  // Reject non-zero trailing bits: re-encoding must give back the same text.
  return btoa(binary) === text ? binary : undefined;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A decoded Basic credential. */
export interface BasicCredential {
  /** Text before the first `:`; never empty. */
  readonly username: string;
  /** Text after the first `:` (may contain `:`); empty when there is no colon. */
  readonly password: string;
}

/**
 * Decodes a Basic credential as auth-o-tron does: strict base64, UTF-8, split
 * at the first `:`. Returns `undefined` for anything malformed or an empty
 * username.
 */
export function decodeBasicCredential(
  credential: string,
): BasicCredential | undefined {
  const binary = decodeBase64Binary(credential);
  if (binary === undefined) return undefined;
  let text = binary; // ASCII bytes are their own UTF-8: no decoder call
  if (!isAscii(binary)) {
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    try {
      text = utf8.decode(bytes);
    } catch {
      return undefined;
    }
  }
  const colon = text.indexOf(":");
  const username = colon < 0 ? text : text.slice(0, colon);
  const password = colon < 0 ? "" : text.slice(colon + 1);
  return username === "" ? undefined : { username, password };
}
