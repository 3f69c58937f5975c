/**
 * `AOT_*` environment overrides (spec 2.5): names map to key paths, values
 * are typed with figment's TOML-like rules, and the result is merged over the
 * file (env wins; tables merge key by key; lists are replaced whole).
 *
 * @module
 */

import { ConfigError } from "../util/errors.ts";
import {
  copyTree,
  FORBIDDEN_KEY_DETAIL,
  isForbiddenKey,
  isTable,
  type KeyPath,
  pathKey,
  type Table,
} from "./tree.ts";
import { parseEnvValue } from "./env_value.ts";

/** One `AOT_*` variable as a key path and a typed value. */
export interface EnvOverride {
  /** The variable's name as given, e.g. `AOT_JWT__SECRET`. */
  readonly name: string;
  /** Lower-cased key path, e.g. `["jwt", "secret"]`. */
  readonly path: readonly string[];
  /** The typed value. */
  readonly value: unknown;
}

/** Names the variable that set the value at a path, if one did. */
export type EnvOrigin = (path: KeyPath) => string | undefined;

const PREFIX = "aot_";

/**
 * Picks the `AOT_*` variables (prefix case-insensitive) out of `env`, sorted by
 * name so that `AOT_JWT` applies before `AOT_JWT__ISS`. Names with an empty
 * segment (`AOT_`, `AOT_A____B`) are skipped. Throws {@link ConfigError} for a
 * forbidden key such as `AOT_CONSTRUCTOR__PROTOTYPE__X`.
 */
export function envOverrides(
  env: Record<string, string>,
  file: string,
): EnvOverride[] {
  const out: EnvOverride[] = [];
  for (const name of Object.keys(env).sort()) {
    if (name.slice(0, PREFIX.length).toLowerCase() !== PREFIX) continue;
    const path = name.slice(PREFIX.length).toLowerCase().split("__");
    if (path.some((part) => part === "")) continue;
    const fail = (at: KeyPath): never => {
      throw new ConfigError(
        "ERR_CONFIG_INVALID",
        { file, env: name },
        at,
        `${FORBIDDEN_KEY_DETAIL} (from ${name})`,
      );
    };
    const bad = path.findIndex(isForbiddenKey);
    if (bad >= 0) fail(path.slice(0, bad + 1));
    const value = copyTree(parseEnvValue(env[name]), path, fail);
    out.push({ name, path, value });
  }
  return out;
}

/**
 * Merges `overrides` into `root` in place and returns where each overridden
 * value came from.
 */
export function applyEnvOverrides(
  root: Table,
  overrides: readonly EnvOverride[],
): EnvOrigin {
  const origins = new Map<string, string>();
  const put = (table: Table, path: KeyPath, value: unknown, name: string) => {
    const key = String(path[path.length - 1]);
    const current = Object.hasOwn(table, key) ? table[key] : undefined;
    if (isTable(value) && isTable(current)) {
      for (const [k, v] of Object.entries(value)) {
        put(current, [...path, k], v, name);
      }
      return;
    }
    table[key] = value;
    const own = pathKey(path);
    const children = own.slice(0, -1) + ",";
    for (const k of origins.keys()) {
      if (k.startsWith(children)) origins.delete(k);
    }
    origins.set(own, name);
  };
  for (const { name, path, value } of overrides) {
    let nested = value;
    for (let i = path.length - 1; i > 0; i--) nested = { [path[i]]: nested };
    put(root, [path[0]], nested, name);
  }
  return (path) => {
    for (let n = path.length; n > 0; n--) {
      const name = origins.get(pathKey(path.slice(0, n)));
      if (name !== undefined) return name;
    }
    return undefined;
  };
}
