/**
 * Typed errors with stable codes. Client responses never carry their messages;
 * operators see them in logs and on stderr.
 *
 * Folder `lib/util/`: small general pieces with no knowledge of the gateway (typed
 * errors, CIDR, bounded calls, config generations). Imports nothing else from `lib/`. The LRU
 * map, bounded cache, HMAC-SHA256 and credential keys live in `packages/plugin/_host/`, shared
 * with the plugin package.
 *
 * @module
 */

/** Where a value came from, for error messages. */
export interface SourcePosition {
  /** The config file path as given. */
  readonly file: string;
  /** 1-based line, when the value came from the file. */
  readonly line?: number;
  /** 1-based column, when the value came from the file. */
  readonly col?: number;
  /** The `AOT_*` variable that set the value, when it came from the environment. */
  readonly env?: string;
}

/** Every stable error code the host raises. */
export type GatewayErrorCode =
  | "ERR_CONFIG_SYNTAX"
  | "ERR_CONFIG_INVALID"
  | "ERR_CONFIG_READ"
  | "ERR_PLUGIN_LOAD"
  | "ERR_PLUGIN_OPTIONS"
  | "ERR_PLUGIN_CREATE"
  | "ERR_PLUGIN_TYPES"
  | "ERR_STARTUP";

/** Base class: a message for operators plus a stable `code`. */
export class GatewayError extends Error {
  /** Stable code. */
  readonly code: GatewayErrorCode;
  /** Creates the error. */
  constructor(code: GatewayErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The message of a thrown value (`String(value)` when it is not an `Error`). */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** `Name: message` of a thrown value, for logs and `/status` (`String(value)` for a non-`Error`). */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Formats a key path as `providers[1].users[0].password`. */
export function formatKeyPath(path: readonly (string | number)[]): string {
  let out = "";
  for (const part of path) {
    out += typeof part === "number" ? `[${part}]` : out === "" ? part : `.${part}`;
  }
  return out || "(root)";
}

/**
 * A configuration problem: names the file, line and column (when known) and
 * the key path. The message reads `config.yaml:12:9 providers[1].users[0].password: expected a string`.
 */
export class ConfigError extends GatewayError {
  /** Where the bad value is. */
  readonly position: SourcePosition;
  /** The key path, e.g. `["providers", 1, "users", 0]`. */
  readonly keyPath: readonly (string | number)[];
  /** Creates the error; `detail` says what is wrong. */
  constructor(
    code: GatewayErrorCode,
    position: SourcePosition,
    keyPath: readonly (string | number)[],
    detail: string,
    options?: ErrorOptions,
  ) {
    const where = position.line === undefined
      ? position.file
      : `${position.file}:${position.line}:${position.col ?? 1}`;
    const key = keyPath.length > 0 ? ` ${formatKeyPath(keyPath)}:` : "";
    super(code, `${where}${key} ${detail}`, options);
    this.position = position;
    this.keyPath = keyPath;
  }
}

/**
 * Several configuration problems at once (every section and plugin entry is
 * checked): `errors` in file order; the message has one line per problem.
 * Code, position and key path are the first problem's.
 */
export class ConfigErrors extends ConfigError {
  /** Every problem, in file order. */
  readonly errors: readonly ConfigError[];
  /** Creates the error from at least one problem. */
  constructor(errors: readonly ConfigError[]) {
    const first = errors[0]!;
    super(first.code, first.position, first.keyPath, "", { cause: first });
    this.errors = errors;
    this.message = errors.map((e) => e.message).join("\n");
  }
}

/** The single problems inside `error` (itself unless it is a {@link ConfigErrors}). */
export function configProblems(error: ConfigError): readonly ConfigError[] {
  return error instanceof ConfigErrors ? error.errors : [error];
}

/** File positions by line and column; environment variables after the file, by name. */
export function byPosition(a: SourcePosition, b: SourcePosition): number {
  if ((a.env === undefined) !== (b.env === undefined)) return a.env === undefined ? -1 : 1;
  if (a.env !== undefined) return a.env < b.env! ? -1 : a.env > b.env! ? 1 : 0;
  return (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0);
}

/**
 * One error for `problems` (flattening nested lists, sorted in file order):
 * the problem itself when there is one, else a {@link ConfigErrors}.
 */
export function combineConfigErrors(problems: readonly ConfigError[]): ConfigError {
  const all = problems.flatMap(configProblems).sort((a, b) => byPosition(a.position, b.position));
  return all.length === 1 ? all[0]! : new ConfigErrors(all);
}
