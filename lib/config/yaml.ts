/**
 * YAML text → a plain config tree plus a map from key paths to file
 * positions. Guards against alias bombs, deep nesting and prototype keys.
 *
 * @module
 */

import {
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
} from "yaml";
import type { SourcePosition } from "../util/errors.ts";
import { ConfigError } from "../util/errors.ts";
import { copyTree, FORBIDDEN_KEY_DETAIL, isTable, type KeyPath, type Table } from "./tree.ts";

/** At most this many alias expansions (yaml's billion-laughs guard). */
export const MAX_ALIAS_COUNT = 100;

/** A parsed config file. */
export interface YamlConfig {
  /** The top-level mapping (empty for an empty document). */
  readonly root: Table;
  /**
   * Position of the value at `path`; for a missing key, the position of the
   * nearest enclosing value that exists; `{file}` when nothing matches.
   */
  readonly position: (path: KeyPath, key?: boolean) => SourcePosition;
}

/** Parses config YAML; throws {@link ConfigError} `ERR_CONFIG_SYNTAX`. */
export function parseYamlConfig(text: string, file: string): YamlConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter: lines,
    prettyErrors: false,
    uniqueKeys: true,
  });
  const at = (offset: number): SourcePosition => ({
    file,
    ...lines.linePos(offset),
  });
  const syntax = (pos: SourcePosition, path: KeyPath, detail: string) =>
    new ConfigError("ERR_CONFIG_SYNTAX", pos, path, detail);
  const error = doc.errors[0];
  if (error) {
    throw syntax(at(error.pos[0]), [], `YAML syntax error: ${error.message}`);
  }
  const position = (path: KeyPath, key = false): SourcePosition => {
    const node = findNode(doc, path, key);
    return node?.range ? at(node.range[0]) : { file };
  };
  let js: unknown;
  try {
    js = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (cause) {
    if (cause instanceof ReferenceError) {
      throw syntax(
        { file },
        [],
        `YAML aliases expand too much (more than ${MAX_ALIAS_COUNT} expansions); refusing a possible alias bomb`,
      );
    }
    if (cause instanceof RangeError) {
      throw syntax({ file }, [], "YAML is nested too deeply");
    }
    throw cause;
  }
  if (js === null || js === undefined) return { root: {}, position };
  if (!isTable(js)) {
    throw syntax(
      position([]),
      [],
      "the top level of a config file must be a mapping of keys to values",
    );
  }
  const root = copyTree(js, [], (path) => {
    throw new ConfigError(
      "ERR_CONFIG_INVALID",
      position(path, true),
      path,
      FORBIDDEN_KEY_DETAIL,
    );
  }) as Table;
  return { root, position };
}

/**
 * Walks the document's nodes along `path`, through aliases. With `key`, the
 * last step returns the mapping key instead of its value.
 */
function findNode(
  doc: Document,
  path: KeyPath,
  key: boolean,
): Node | undefined {
  let node = deref(doc, doc.contents);
  let found = node;
  for (const [i, part] of path.entries()) {
    let next: unknown;
    if (isMap(node)) {
      const pair = node.items.find((p) => keyText(p.key) === String(part));
      const wantKey = key && i === path.length - 1;
      next = pair ? (wantKey ? pair.key : pair.value ?? pair.key) : undefined;
    } else if (isSeq(node) && typeof part === "number") {
      next = node.items[part];
    }
    node = deref(doc, next);
    if (!node) break;
    found = node;
  }
  return found;
}

function deref(doc: Document, node: unknown): Node | undefined {
  if (isAlias(node)) return node.resolve(doc) ?? undefined;
  return isMap(node) || isSeq(node) || isScalar(node) ? node : undefined;
}

function keyText(key: unknown): string | undefined {
  return isScalar(key) ? String(key.value) : undefined;
}
