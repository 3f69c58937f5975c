/**
 * The generic config tree (what YAML and `AOT_*` variables produce before
 * validation) and the prototype-pollution guard shared by both sources.
 *
 * @module
 */

/** A key path into the tree, e.g. `["providers", 1, "users", 0]`. */
export type KeyPath = readonly (string | number)[];

/** A mapping (YAML) or table (environment) as a plain object. */
export type Table = Record<string, unknown>;

/** Whether `value` is a mapping (not a list, not null). */
export function isTable(value: unknown): value is Table {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Returns `table[key]` only when it is an own property. */
export function own(table: Table, key: string): unknown {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

const FORBIDDEN_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/**
 * Whether `key` is refused anywhere in a config: these names could reach
 * `Object.prototype` in a consumer that merges objects naively.
 */
export function isForbiddenKey(key: string): boolean {
  return FORBIDDEN_KEYS.has(key);
}

/** Message used when a forbidden key is found. */
export const FORBIDDEN_KEY_DETAIL =
  "the keys __proto__, constructor and prototype are not allowed in a config";

/**
 * Deep-copies a JSON-like tree into fresh plain objects and arrays, so that
 * later merges never touch shared (aliased) nodes. Calls `onForbidden` with
 * the path of the first forbidden key; it must throw.
 */
export function copyTree(
  value: unknown,
  path: KeyPath,
  onForbidden: (path: KeyPath) => never,
): unknown {
  if (Array.isArray(value)) {
    return value.map((item, i) => copyTree(item, [...path, i], onForbidden));
  }
  if (!isTable(value)) return value;
  const out: Table = {};
  for (const [key, item] of Object.entries(value)) {
    if (isForbiddenKey(key)) onForbidden([...path, key]);
    out[key] = copyTree(item, [...path, key], onForbidden);
  }
  return out;
}

/** A stable string form of a key path, for use as a Map key. */
export function pathKey(path: KeyPath): string {
  return JSON.stringify(path);
}
