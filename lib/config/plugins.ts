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
  readInteger,
  readList,
  readNonEmptyString,
  readString,
  readTable,
} from "./read.ts";

/** The keys of a plugin entry the host reads; every other key is a plugin option. */
export const HOST_KEYS = {
  provider: [
    "name",
    "type",
    "module",
    "realm",
    "upstream_max_concurrent",
    "upstream_max_per_second",
  ],
  augmenter: ["name", "type", "module", "realm", "on_error"],
} as const satisfies Record<PluginEntry["kind"], readonly string[]>;

const readOnError = readChoice(["skip", "fail"] as const);
const readLimit = readInteger(0, 1_000_000);

/** Default `upstream_max_concurrent` of a provider entry. */
export const DEFAULT_UPSTREAM_MAX_CONCURRENT = 64;
/** Default `upstream_max_per_second` of a provider entry. */
export const DEFAULT_UPSTREAM_MAX_PER_SECOND = 200;

/**
 * Reads a list of plugin entries at `path` (`["providers"]` or
 * `["augmenters"]`). A name may repeat in different realms, as auth-o-tron
 * allows (each such entry gets the id `name@realm`); the same name twice in
 * one realm (compared case-insensitively, as `X-Auth-Realm` is) is refused.
 */
export function readPluginEntries(
  ctx: ReadContext,
  value: unknown,
  path: KeyPath,
  kind: PluginEntry["kind"],
): PluginEntry[] {
  const read = readList(ctx, value, path).flatMap((item, index) =>
    attempt(ctx, () => [readPluginEntry(ctx, item, [...path, index], kind, index)], [])
  );
  const seen = new Map<string, number>();
  const count = new Map<string, number>();
  for (const entry of read) {
    const key = JSON.stringify([entry.name, entry.realm.toLowerCase()]);
    const first = seen.get(key);
    if (first !== undefined) {
      fail(
        ctx,
        [...entry.path, "name"],
        `duplicate ${kind} name ${JSON.stringify(entry.name)} in realm ${
          JSON.stringify(entry.realm)
        }: ${path[0]}[${first}] and ${path[0]}[${entry.index}] must differ in name or realm`,
      );
    }
    seen.set(key, entry.index);
    count.set(entry.name, (count.get(entry.name) ?? 0) + 1);
  }
  const entries = read.map((entry) => ({
    ...entry,
    id: count.get(entry.name)! > 1 ? `${entry.name}@${entry.realm}` : entry.name,
  }));
  const ids = new Map<string, number>();
  for (const entry of entries) {
    const first = ids.get(entry.id);
    if (first !== undefined) {
      fail(
        ctx,
        [...entry.path, "name"],
        `${kind} id ${JSON.stringify(entry.id)} of ${path[0]}[${entry.index}] is also the id of ${
          path[0]
        }[${first}]; rename one of them`,
      );
    }
    ids.set(entry.id, entry.index);
  }
  return entries;
}

function readPluginEntry(
  ctx: ReadContext,
  item: unknown,
  path: KeyPath,
  kind: PluginEntry["kind"],
  index: number,
): Omit<PluginEntry, "id"> {
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
  const upstreamLimits = {
    maxConcurrent: kind === "provider"
      ? field(
        ctx,
        table,
        [...path, "upstream_max_concurrent"],
        readLimit,
        DEFAULT_UPSTREAM_MAX_CONCURRENT,
      )
      : 0,
    maxPerSecond: kind === "provider"
      ? field(
        ctx,
        table,
        [...path, "upstream_max_per_second"],
        readLimit,
        DEFAULT_UPSTREAM_MAX_PER_SECOND,
      )
      : 0,
  };
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
    upstreamLimits,
    options,
  };
}
