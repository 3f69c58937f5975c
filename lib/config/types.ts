/**
 * The resolved configuration the rest of the gateway reads. `lib/config/load.ts`
 * produces it from a v1 or v2 YAML file plus `AOT_*` environment overrides.
 *
 * @module
 */

import type { SourcePosition } from "../util/errors.ts";

/** Log levels accepted in `logging.level`. */
export type LogLevel = "trace" | "debug" | "info" | "warn" | "error";

/**
 * Maps a key path to the place in the YAML file that set it (with `key`, the
 * place of the key itself rather than its value).
 */
export type Locate = (path: readonly (string | number)[], key?: boolean) => SourcePosition;

/** A config key the gateway does not know: accepted, ignored and reported. */
export interface UnknownKey {
  /** Its key path, e.g. `["jwt", "algoritm"]`. */
  readonly path: readonly (string | number)[];
  /** Where it is set (file position, or the `AOT_*` variable). */
  readonly position: SourcePosition;
  /** The path of a known key with a close name, when there is one. */
  readonly suggestion?: readonly (string | number)[];
}

/** One `providers[]` or `augmenters[]` entry. */
export interface PluginEntry {
  /** `provider` or `augmenter`. */
  readonly kind: "provider" | "augmenter";
  /** Position in its list. */
  readonly index: number;
  /** Key path of the entry, e.g. `["providers", 1]`. */
  readonly path: readonly (string | number)[];
  /** The entry's `name` (unique within its list per realm). */
  readonly name: string;
  /**
   * `name`, or `name@realm` when another entry of the list has the same name
   * in another realm: the key of logs, health, `/status` and the metrics
   * without a `realm` label.
   */
  readonly id: string;
  /** The entry's `realm`. */
  readonly realm: string;
  /** A built-in type (`plain`, `jwt`, …), when given. */
  readonly type?: string;
  /** A module path or URL, when given (relative to the config file). */
  readonly module?: string;
  /** Augmenters only: what an error or timeout does (`skip` by default). */
  readonly onError: "skip" | "fail";
  /**
   * Providers only: bounds on the entry's upstream requests
   * (`upstream_max_concurrent`, `upstream_max_per_second`; 0 = none). Both 0 for augmenters.
   */
  readonly upstreamLimits: { readonly maxConcurrent: number; readonly maxPerSecond: number };
  /** Every key except the host keys (`name`, `type`, `module`, `realm`, `on_error`, `upstream_max_*`). */
  readonly options: Record<string, unknown>;
}

/** The `store` section. */
export interface StoreConfig {
  /** Whether the token store (and its routes and pseudo-provider) is on. */
  readonly enabled: boolean;
  /** Backend: `deno-kv` (default) or `postgres`. */
  readonly type: "deno-kv" | "postgres";
  /** Deno KV file; default `./data/tokens.kv` (relative to the working directory). */
  readonly path: string;
  /** PostgreSQL connection URI (required for `postgres`). */
  readonly uri?: string;
  /** Default token lifetime in seconds (`store.default_ttl`, default 30 days). */
  readonly defaultTtl: number;
  /** Maximum token lifetime in seconds (`store.max_ttl`, default 365 days). */
  readonly maxTtl: number;
}

/** Algorithms the gateway signs its downstream tokens with. */
export type JwtAlgorithm = "HS256" | "ES256" | "EdDSA" | "RS256";

/** Where a `jwt.keys[]` entry's key comes from (the key name used in the file). */
export type JwtKeySource =
  | "private_key"
  | "private_key_file"
  | "private_key_env"
  | "public_key"
  | "public_key_file";

/** One `jwt.keys[]` entry; the key itself is read and imported at startup. */
export interface JwtKeyConfig {
  /** Key path of the entry, e.g. `["jwt", "keys", 0]`. */
  readonly path: readonly (string | number)[];
  /** The `kid`, when configured (default: the RFC 7638 thumbprint). */
  readonly kid?: string;
  /** Which source key was given. */
  readonly source: JwtKeySource;
  /** Its value: PEM or JWK text, a file path, or a variable name. */
  readonly value: string;
  /** Whether this key signs (exactly one does for ES256, EdDSA and RS256). */
  readonly active: boolean;
  /** Epoch seconds after which the key is no longer published. */
  readonly notAfter?: number;
}

/** `auth.brute_force`: limits on failed attempts (docs/security.md, "Brute-force limits"). */
export interface BruteForceConfig {
  /** Throttling on (default true). */
  readonly enabled: boolean;
  /** Failures of one username from one address within the window before that pair is blocked. */
  readonly maxFailures: number;
  /** Failures from one address (any username, any scheme) before the address is blocked. */
  readonly maxFailuresPerAddress: number;
  /** Failures for one username (any address) before it is blocked; 0 turns this limit off. */
  readonly maxFailuresPerUsername: number;
  /** Failures are counted over this many seconds. */
  readonly windowS: number;
  /** A key over its limit is refused for this many seconds. */
  readonly blockS: number;
  /** Client addresses (CIDR) that are never throttled. */
  readonly trustedNetworks: readonly string[];
  /** Peers (CIDR) whose `X-Real-IP` header names the client, e.g. a local NGINX. */
  readonly trustedProxies: readonly string[];
}

/** The whole resolved configuration (always in v2 shape). */
export interface Config {
  /** The file it was read from, as given. */
  readonly file: string;
  /** The file as a URL; plugin `module:` paths resolve against it. */
  readonly fileUrl: URL;
  /** The version the file declared. */
  readonly sourceVersion: "1.0.0" | "2.0.0";
  /** Maps key paths to file positions for later error messages. */
  readonly locate: Locate;
  /** Keys outside the format (plugin options excepted), in file order; reported, not fatal. */
  readonly unknownKeys: readonly UnknownKey[];
  /** Application listener. */
  readonly server: { readonly host: string; readonly port: number };
  /** Metrics/health listener (same host). */
  readonly metrics: { readonly enabled: boolean; readonly port: number };
  /** Graceful shutdown (`shutdown`, an addition to the original's format). */
  readonly shutdown: {
    /**
     * After SIGTERM, how long both listeners keep serving (every answer with
     * `Connection: close`, `/ready` 503) before they close
     * (`shutdown.drain_delay_ms`, default 1000).
     */
    readonly drainDelayMs: number;
  };
  /** Pipeline settings. */
  readonly auth: {
    /** Per-provider timeout (`auth.timeout_in_ms`, default 5000). */
    readonly timeoutInMs: number;
    /** Per-augmenter timeout (`auth.augmenter_timeout_in_ms`, default = timeoutInMs). */
    readonly augmenterTimeoutInMs: number;
    /** Status when an upstream could not decide (`auth.upstream_failure_status`, 503 or 401). */
    readonly upstreamFailureStatus: 401 | 503;
    /** How long a successful decision (and its issued JWT) is reused (`auth.decision_cache_ttl_ms`, default 1000, 0 = off). */
    readonly decisionCacheTtlMs: number;
    /** Longest wait for one plugin's `create()` at startup or reload (`auth.plugin_create_timeout_ms`, default 30000). */
    readonly pluginCreateTimeoutMs: number;
    /** Brute-force limits (`auth.brute_force`, read by `lib/config/brute_force.ts`). */
    readonly bruteForce: BruteForceConfig;
  };
  /** Issued-JWT settings (read by `lib/config/jwt.ts`). */
  readonly jwt: {
    readonly iss: string;
    readonly exp: number;
    /** The HS256 secret; required when `algorithm` is HS256. */
    readonly secret?: string;
    /** The `aud` claim (`jwt.audience`), only when configured (a string or a list). */
    readonly audience?: string | readonly string[];
    /** `jwt.aud` was given: ignored as in auth-o-tron, with a startup warning. */
    readonly audIgnored: boolean;
    /** Signing algorithm (`jwt.algorithm`, default HS256). */
    readonly algorithm: JwtAlgorithm;
    /** Asymmetric keys: one active signer, the others published only. */
    readonly keys: readonly JwtKeyConfig[];
    /** Adds a random `jti` claim. */
    readonly includeJti: boolean;
    /** Adds `nbf` equal to `iat`. */
    readonly includeNbf: boolean;
  };
  /** Adds `X-Auth-*` headers to a successful `/authenticate`. */
  readonly includeLegacyHeaders: boolean;
  /** Logging. */
  readonly logging: {
    readonly level: LogLevel;
    readonly format: "json" | "console";
    readonly serviceName: string;
    readonly serviceVersion: string;
  };
  /** Token store. */
  readonly store: StoreConfig;
  /** Parsed and unused, as in the original. */
  readonly services: readonly {
    readonly name: string;
    readonly scopes: readonly string[];
  }[];
  /** Providers in config order. */
  readonly providers: readonly PluginEntry[];
  /** Augmenters in config order. */
  readonly augmenters: readonly PluginEntry[];
}

/** The gateway's own version (reported in `/`, build_info and logs). */
export const VERSION = "0.5.0";
