/**
 * Typed reads from the merged config tree. Every failure is a
 * {@link ConfigError} naming file, line:col (or the `AOT_*` variable) and key
 * path, and never echoes the value of a secret-looking key.
 *
 * @module
 */

import { closestName } from "../../packages/plugin/_host/closest_name.ts";
import { ConfigError } from "../util/errors.ts";
import type { Locate } from "./types.ts";
import { isTable, type KeyPath, own, type Table } from "./tree.ts";

/** What the readers need to report errors. */
export interface ReadContext {
  /** Maps a key path to its position (with `env` for overridden values). */
  readonly locate: Locate;
  /** When present, {@link attempt} collects problems here instead of stopping at the first. */
  readonly errors?: ConfigError[];
}

/**
 * Runs `read`. With a collector in `ctx`, a {@link ConfigError} is collected
 * and `fallback` returned, so reading goes on to find the next problem (the
 * result is then never used); without one, it is thrown.
 */
export function attempt<T>(ctx: ReadContext, read: () => T, fallback: T): T {
  if (ctx.errors === undefined) return read();
  try {
    return read();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    ctx.errors.push(error);
    return fallback;
  }
}

/** A reader: checks and converts the value found at `path`. */
export type Read<T> = (ctx: ReadContext, value: unknown, path: KeyPath) => T;

const SECRET_KEY = /secret|passw|token|api[-_]?key|private[-_]?key|credential|^(uri|url|dsn)$/i;

/** Whether the value at `path` must never be echoed in a message. */
function isSecretPath(path: KeyPath): boolean {
  return path.some((part) => typeof part === "string" && SECRET_KEY.test(part));
}

/** Describes a value for `got …`, hiding the content of secrets. */
export function describe(value: unknown, path: KeyPath): string {
  const hide = isSecretPath(path);
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (isTable(value)) return "a mapping";
  if (typeof value === "string") {
    if (hide || value.includes("@")) return "a string";
    return JSON.stringify(value.length > 60 ? value.slice(0, 57) + "..." : value);
  }
  if (typeof value === "number" && hide) {
    return Number.isInteger(value) ? "an integer" : "a number";
  }
  if (typeof value === "boolean" && hide) return "a boolean";
  return String(value);
}

/** Throws a {@link ConfigError} for `path`; adds `(from AOT_…)` when overridden. */
export function fail(
  ctx: ReadContext,
  path: KeyPath,
  detail: string,
  envHint?: (name: string) => string,
): never {
  const position = ctx.locate(path);
  const from = position.env === undefined ? "" : ` (from ${position.env})`;
  const hint = position.env !== undefined && envHint ? `; ${envHint(position.env)}` : "";
  throw new ConfigError(
    "ERR_CONFIG_INVALID",
    position,
    path,
    `${detail}${from}${hint}`,
  );
}

/**
 * Reads `table[path.at(-1)]` with `read`. A missing or null value gives
 * `fallback`, or fails as missing when there is no fallback.
 */
export function field<T>(
  ctx: ReadContext,
  table: Table,
  path: KeyPath,
  read: Read<T>,
  fallback?: T,
): T {
  const value = own(table, String(path[path.length - 1]));
  if (value === undefined || value === null) {
    if (fallback !== undefined) return fallback;
    if (value === null) fail(ctx, path, "is required, got null");
    // A misspelled required key says so: `is required (found "relam": did you mean realm?)`.
    const key = String(path[path.length - 1]);
    const near = closestName(key, Object.keys(table));
    fail(
      ctx,
      path,
      near === undefined
        ? "is required"
        : `is required (found ${JSON.stringify(near)}: did you mean ${key}?)`,
    );
  }
  return read(ctx, value, path);
}

/** Like {@link field}, but a missing or null value gives `undefined`. */
export function optionalField<T>(
  ctx: ReadContext,
  table: Table,
  path: KeyPath,
  read: Read<T>,
): T | undefined {
  const value = own(table, String(path[path.length - 1]));
  return value === undefined || value === null ? undefined : read(ctx, value, path);
}

/** Reads a mapping. */
export const readTable: Read<Table> = (ctx, value, path) => {
  if (isTable(value)) return value;
  return fail(ctx, path, `expected a mapping, got ${describe(value, path)}`);
};

/** Reads a list. */
export const readList: Read<unknown[]> = (ctx, value, path) => {
  if (Array.isArray(value)) return value;
  return fail(ctx, path, `expected a list, got ${describe(value, path)}`);
};

/** Reads a string; hints at quoting when a typed env value was given. */
export const readString: Read<string> = (ctx, value, path) => {
  if (typeof value === "string") return value;
  const quote = typeof value === "number" || typeof value === "boolean";
  return fail(
    ctx,
    path,
    `expected a string, got ${describe(value, path)}`,
    quote
      ? (name) =>
        `environment values that look like numbers or booleans are typed, so quote it: ${name}='"…"'`
      : undefined,
  );
};

/** Reads a non-empty string. */
export const readNonEmptyString: Read<string> = (ctx, value, path) => {
  const text = readString(ctx, value, path);
  return text === "" ? fail(ctx, path, "must not be empty") : text;
};

/** Reads a boolean. */
export const readBoolean: Read<boolean> = (ctx, value, path) => {
  if (typeof value === "boolean") return value;
  return fail(ctx, path, `expected true or false, got ${describe(value, path)}`);
};

/**
 * Returns a reader for integers in `[min, max]`; with no bounds, any safe
 * integer.
 */
export function readInteger(
  min = -Number.MAX_SAFE_INTEGER,
  max = Number.MAX_SAFE_INTEGER,
): Read<number> {
  const expected = max === Number.MAX_SAFE_INTEGER
    ? "an integer"
    : `an integer between ${min} and ${max}`;
  return (ctx, value, path) => {
    if (typeof value === "number" && Number.isInteger(value)) {
      if (value >= min && value <= max) return value;
    }
    return fail(ctx, path, `expected ${expected}, got ${describe(value, path)}`);
  };
}

/** Returns a reader for a string that must be one of `choices`. */
export function readChoice<T extends string>(
  choices: readonly T[],
  normalise: (text: string) => string = (text) => text,
): Read<T> {
  return (ctx, value, path) => {
    const text = normalise(readString(ctx, value, path));
    if ((choices as readonly string[]).includes(text)) return text as T;
    return fail(
      ctx,
      path,
      `expected one of ${choices.join(", ")}, got ${describe(value, path)}`,
    );
  };
}

/** Reads a list of strings. */
export const readStringList: Read<string[]> = (ctx, value, path) =>
  readList(ctx, value, path).map((item, i) => readString(ctx, item, [...path, i]));
