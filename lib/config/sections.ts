/**
 * Readers for the config sections shared by v1 and v2 (spec 2.2, 2.4):
 * `auth`, `shutdown`, `logging`, `store` and `services` (`jwt` lives in
 * `lib/config/jwt.ts`).
 *
 * @module
 */

import { type Config, type LogLevel, type StoreConfig, VERSION } from "./types.ts";
import {
  describe,
  fail,
  field,
  optionalField,
  type Read,
  readBoolean,
  readChoice,
  readInteger,
  readList,
  readNonEmptyString,
  readString,
  readStringList,
  readTable,
} from "./read.ts";
import { readBruteForce } from "./brute_force.ts";

/** Default `store.path` of the Deno KV backend. */
export const DEFAULT_STORE_PATH = "./data/tokens.kv";
/** The store of a file without a `store` section: disabled, default lifetimes. */
export const DISABLED_STORE: StoreConfig = {
  enabled: false,
  defaultTtl: 30 * 86400,
  maxTtl: 365 * 86400,
  type: "deno-kv",
  path: DEFAULT_STORE_PATH,
};
/** Store backends this gateway supports. */
export const STORE_TYPES = ["deno-kv", "postgres"] as const;
/** Valid `logging.level` values. */
export const LOG_LEVELS: readonly LogLevel[] = [
  "trace",
  "debug",
  "info",
  "warn",
  "error",
];

const MAX_TIMER = 2 ** 31 - 1;
const readTimeout = readInteger(0, MAX_TIMER);
const readTtl = readInteger(1, MAX_TIMER);
const readDecisionTtl = readInteger(0, 60_000);
const readStatus: Read<401 | 503> = (ctx, value, path) =>
  value === 401 || value === 503
    ? value
    : fail(ctx, path, `expected 401 or 503, got ${describe(value, path)}`);

/** Default `shutdown.drain_delay_ms`. */
export const DEFAULT_DRAIN_DELAY_MS = 1000;
/** Largest `shutdown.drain_delay_ms` (a longer pause belongs in the orchestrator's preStop). */
export const MAX_DRAIN_DELAY_MS = 120_000;

/** Reads the optional `shutdown` section (an addition; the original has none). */
export const readShutdown: Read<Config["shutdown"]> = (ctx, value, path) => {
  const table = readTable(ctx, value, path);
  return {
    drainDelayMs: field(
      ctx,
      table,
      [...path, "drain_delay_ms"],
      readInteger(0, MAX_DRAIN_DELAY_MS),
      DEFAULT_DRAIN_DELAY_MS,
    ),
  };
};

/** Reads the optional `auth` section. */
export const readAuth: Read<Config["auth"]> = (ctx, value, path) => {
  const table = readTable(ctx, value, path);
  const timeoutInMs = field(
    ctx,
    table,
    [...path, "timeout_in_ms"],
    readTimeout,
    5000,
  );
  return {
    timeoutInMs,
    augmenterTimeoutInMs: field(
      ctx,
      table,
      [...path, "augmenter_timeout_in_ms"],
      readTimeout,
      timeoutInMs,
    ),
    upstreamFailureStatus: field(
      ctx,
      table,
      [...path, "upstream_failure_status"],
      readStatus,
      503,
    ),
    decisionCacheTtlMs: field(
      ctx,
      table,
      [...path, "decision_cache_ttl_ms"],
      readDecisionTtl,
      1000,
    ),
    pluginCreateTimeoutMs: field(
      ctx,
      table,
      [...path, "plugin_create_timeout_ms"],
      readTtl,
      30_000,
    ),
    bruteForce: field(
      ctx,
      table,
      [...path, "brute_force"],
      readBruteForce,
      readBruteForce(ctx, {}, [...path, "brute_force"]),
    ),
  };
};

/** Reads the `jwt` section (moved to its own module with the signing options). */
export { readJwt } from "./jwt.ts";

/** Reads `logging`: level trimmed and lower-cased; any format but `json` is `console`. */
export const readLogging: Read<Config["logging"]> = (ctx, value, path) => {
  const table = readTable(ctx, value, path);
  const level = readChoice(LOG_LEVELS, (t) => t.trim().toLowerCase());
  const format = field(ctx, table, [...path, "format"], readString);
  return {
    level: field(ctx, table, [...path, "level"], level),
    format: format.toLowerCase() === "json" ? "json" : "console",
    serviceName: field(
      ctx,
      table,
      [...path, "service_name"],
      readString,
      "authotron",
    ),
    serviceVersion: field(
      ctx,
      table,
      [...path, "service_version"],
      readString,
      VERSION,
    ),
  };
};

const readStoreType: Read<StoreConfig["type"]> = (ctx, value, path) => {
  const type = readString(ctx, value, path);
  if ((STORE_TYPES as readonly string[]).includes(type)) {
    return type as StoreConfig["type"];
  }
  const supported = `supported types: ${STORE_TYPES.join(", ")}`;
  return fail(
    ctx,
    path,
    type === "mongo"
      ? `the mongo backend is not supported by this gateway; set store.type: deno-kv (with ` +
        `store.path) or postgres (with store.uri), then copy the existing tokens with ` +
        `"deno task import-tokens <mongoexport file>" (docs/tokens.md)`
      : `unknown store type ${describe(type, path)}; ${supported}`,
  );
};

/** Reads `store`; backend keys are ignored when it is disabled. */
export const readStore: Read<StoreConfig> = (ctx, value, path) => {
  const table = readTable(ctx, value, path);
  const enabled = field(ctx, table, [...path, "enabled"], readBoolean);
  const defaultTtl = field(
    ctx,
    table,
    [...path, "default_ttl"],
    readTtl,
    30 * 86400,
  );
  const maxTtl = field(ctx, table, [...path, "max_ttl"], readTtl, 365 * 86400);
  if (defaultTtl > maxTtl) {
    fail(
      ctx,
      [...path, "default_ttl"],
      `default_ttl (${defaultTtl}) must not be greater than max_ttl (${maxTtl})`,
    );
  }
  const common = { enabled, defaultTtl, maxTtl };
  if (!enabled) return { ...DISABLED_STORE, ...common };
  const type = field(ctx, table, [...path, "type"], readStoreType, "deno-kv");
  const file = field(
    ctx,
    table,
    [...path, "path"],
    readNonEmptyString,
    DEFAULT_STORE_PATH,
  );
  if (type !== "postgres") return { ...common, type, path: file };
  const uriPath = [...path, "uri"];
  const uri = optionalField(ctx, table, uriPath, readNonEmptyString) ??
    fail(ctx, uriPath, "is required when store.type is postgres");
  return { ...common, type, path: file, uri };
};

/** Reads `services` (parsed and unused, as in the original). */
export const readServices: Read<Config["services"]> = (ctx, value, path) =>
  readList(ctx, value, path).map((item, i) => {
    const table = readTable(ctx, item, [...path, i]);
    return {
      name: field(ctx, table, [...path, i, "name"], readString),
      scopes: field(ctx, table, [...path, i, "scopes"], readStringList),
    };
  });
