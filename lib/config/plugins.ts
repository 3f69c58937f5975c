/**
 * `providers[]` and `augmenters[]` entries: host keys are checked here, every
 * other key is handed to the plugin as `options`. Type names are not checked
 * here; the plugin loader resolves them.
 *
 * @module
 */

import type { PluginEntry } from "./types.ts";
import type { KeyPath, Table } from "./tree.ts";
import {
  attempt,
  fail,
  field,
  optionalField,
  readChoice,
  type ReadContext,
  readList,
  readNonEmptyString,
  readString,
  readTable,
} from "./read.ts";

/** The keys of a plugin entry the host reads; every other key is a plugin option. */
export const HOST_KEYS = {
  provider: ["name", "type", "module", "realm"],
  augmenter: ["name", "type", "module", "realm", "on_error"],
} as const satisfies Record<PluginEntry["kind"], readonly string[]>;

const readOnError = readChoice(["skip", "fail"] as const);

/**
 * Reads a list of plugin entries at `path` (`["providers"]` or
 * `["augmenters"]`). Names must be unique within the list.
 */
export function readPluginEntries(
  ctx: ReadContext,
  value: unknown,
  path: KeyPath,
  kind: PluginEntry["kind"],
): PluginEntry[] {
  const entries = readList(ctx, value, path).flatMap((item, index) =>
    attempt(ctx, () => [readPluginEntry(ctx, item, [...path, index], kind, index)], [])
  );
  const seen = new Map<string, number>();
  for (const entry of entries) {
    const first = seen.get(entry.name);
    if (first !== undefined) {
      fail(
        ctx,
        [...entry.path, "name"],
        `duplicate ${kind} name ${JSON.stringify(entry.name)}: ${path[0]}[${first}] and ${
          path[0]
        }[${entry.index}] must have different names`,
      );
    }
    seen.set(entry.name, entry.index);
  }
  return entries;
}

function readPluginEntry(
  ctx: ReadContext,
  item: unknown,
  path: KeyPath,
  kind: PluginEntry["kind"],
  index: number,
): PluginEntry {
  const table = readTable(ctx, item, path);
  const name = field(ctx, table, [...path, "name"], readNonEmptyString);
  const realm = field(ctx, table, [...path, "realm"], readString);
  const type = optionalField(ctx, table, [...path, "type"], readNonEmptyString);
  const module = optionalField(
    ctx,
    table,
    [...path, "module"],
    readNonEmptyString,
  );
  if ((type === undefined) === (module === undefined)) {
    fail(
      ctx,
      type === undefined ? path : [...path, "module"],
      type === undefined
        ? "needs either `type` (a built-in plugin) or `module` (a plugin module path or URL)"
        : "give either `type` or `module`, not both",
    );
  }
  const onError = kind === "augmenter"
    ? field(ctx, table, [...path, "on_error"], readOnError, "skip")
    : "skip";
  const options: Table = {};
  for (const [key, value] of Object.entries(table)) {
    if (!(HOST_KEYS[kind] as readonly string[]).includes(key)) options[key] = value;
  }
  return {
    kind,
    index,
    path,
    name,
    realm,
    ...(type === undefined ? {} : { type }),
    ...(module === undefined ? {} : { module }),
    onError,
    options,
  };
}
