/**
 * Unknown config keys (issue #18): they are still accepted, as auth-o-tron
 * accepts them, but each one is reported with its key path, its place in the
 * file (or the `AOT_*` variable that set it) and, when a known key is close,
 * a "did you mean" suggestion. The known keys come from the JSON Schema
 * (`lib/config/schema.ts`), so the schema and this check cannot drift apart.
 * Plugin options are checked against the keys the plugin declares
 * (`optionKeys`), by the plugin loader.
 *
 * @module
 */

import { closestName } from "../../packages/plugin/_host/closest_name.ts";
import { byPosition, formatKeyPath, type SourcePosition } from "../util/errors.ts";
import { configSchema } from "./schema.ts";
import { isTable, type KeyPath, type Table } from "./tree.ts";
import type { Locate, UnknownKey } from "./types.ts";

type Schema = Record<string, unknown>;

export type { UnknownKey };

/** `file:line:col` of a position, or `AOT_X` when an environment variable set the key. */
export function formatPosition(position: SourcePosition): string {
  if (position.env !== undefined) return position.env;
  return position.line === undefined
    ? position.file
    : `${position.file}:${position.line}:${position.col ?? 1}`;
}

/** The line `--check-config` prints and the message of the `config.unknown_key` event. */
export function describeUnknownKey(unknown: UnknownKey): string {
  const hint = unknown.suggestion === undefined
    ? ""
    : ` (did you mean "${formatKeyPath(unknown.suggestion)}"?)`;
  return `${formatPosition(unknown.position)} ${
    formatKeyPath(unknown.path)
  }: unknown key, ignored${hint}`;
}

/**
 * Lists the keys of `table` (at `path`) that are not in `known`, each with a
 * suggestion among `known`. Used for plugin options too.
 */
export function unknownKeysOf(
  table: Table,
  path: KeyPath,
  known: readonly string[],
  locate: Locate,
): UnknownKey[] {
  const out: UnknownKey[] = [];
  for (const key of Object.keys(table)) {
    if (known.includes(key)) continue;
    const close = closestName(key, known);
    out.push({
      path: [...path, key],
      position: locate([...path, key], true),
      ...(close === undefined ? {} : { suggestion: [...path, close] }),
    });
  }
  return out;
}

/**
 * Every key of the merged config tree that the format does not know, in
 * file order (plugin options excepted). `root` must already have passed
 * validation, so its `version` is one of the known ones.
 */
export function findUnknownKeys(root: Table, locate: Locate): UnknownKey[] {
  const schema = configSchema();
  const defs = schema.$defs as Record<string, Schema>;
  const resolve = (node: Schema): Schema => {
    const ref = node.$ref;
    return typeof ref === "string" ? defs[ref.slice("#/$defs/".length)] ?? {} : node;
  };
  const out: UnknownKey[] = [];
  const walk = (node: Schema, value: unknown, path: KeyPath) => {
    const shape = resolve(node);
    if (Array.isArray(value) && isTable(shape.items)) {
      value.forEach((item, i) => walk(shape.items as Schema, item, [...path, i]));
      return;
    }
    if (!isTable(value) || !isTable(shape.properties)) return;
    const properties = shape.properties as Record<string, Schema>;
    for (const [key, item] of Object.entries(value)) {
      if (Object.hasOwn(properties, key)) walk(properties[key]!, item, [...path, key]);
    }
    // Plugin entries pass every other key to the plugin, which checks them.
    if (shape.additionalProperties === true) return;
    const known = Object.keys(properties);
    out.push(
      ...unknownKeysOf(value, path, known, locate).filter((unknown) =>
        // AOT_CONFIG_PATH is also seen as the key config_path (spec 2.5): harmless.
        !(path.length === 0 && unknown.path[0] === "config_path" &&
          unknown.position.env !== undefined)
      ),
    );
  };
  walk(root.version === "1.0.0" ? defs.ConfigV1! : defs.ConfigV2!, root, []);
  return out.sort(byFileOrder);
}

/** Unknown keys in file order; environment variables after the file, by name. */
export function byFileOrder(a: UnknownKey, b: UnknownKey): number {
  return byPosition(a.position, b.position);
}
