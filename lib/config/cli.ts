/**
 * The command line of `main.ts`: what to do (serve, check a config, print the
 * schema, help or version) and with which options. Parsing is pure, so it is
 * tested without spawning a process.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { VERSION } from "./types.ts";

/** What `main.ts` was asked to do. */
export type CliMode = "serve" | "check-config" | "explain" | "schema" | "help" | "version";

/** The parsed command line. */
export interface CliOptions {
  /** What to do. */
  readonly mode: CliMode;
  /** The config path given after `--check-config` or `--explain`, when given. */
  readonly pathArgument?: string;
  /** `--realm <realm>`: the `X-Auth-Realm` value for `--explain`. */
  readonly realm?: string;
  /** `--default-config <path>`: the config when `AOT_CONFIG_PATH` is unset. */
  readonly defaultConfig?: string;
  /** `--strict`: unknown config keys are errors for `--check-config`. */
  readonly strict: boolean;
  /** `--typecheck-plugins`: with `--check-config`, run `deno check` on every `module:` plugin. */
  readonly typecheckPlugins: boolean;
  /** `--watch-config`: reload when the config file changes. */
  readonly watchConfig: boolean;
  /** Unknown options as written (`main.ts` warns about them and carries on). */
  readonly ignored: readonly string[];
}

/** The one-line `--version` answer (the version `/status` reports). */
export const VERSION_LINE = `authotron ${VERSION}`;

/** `--help` text. */
export const USAGE = `Usage: main.ts [options]

Auth-O-Tron ${VERSION}: an authentication gateway for web APIs.

Serves the config file named by AOT_CONFIG_PATH (else --default-config, else
./config.yaml) until SIGTERM or SIGINT. SIGHUP reloads the config file.

Options:
  --check-config [path]    validate a config file, its plugins and keys, then exit
                           (0 = valid; unknown keys are listed on stderr)
  --strict                 with --check-config: unknown keys make it exit 1
  --typecheck-plugins      with --check-config: run deno check on every module: plugin
                           (needs --allow-run; deno task check-plugins)
  --explain [path]         explain the decision for the Authorization value read from
                           stdin (one line; empty for none), as GET /explain does, then exit
  --realm <realm>          with --explain: the X-Auth-Realm value
  --default-config <path>  the config file when AOT_CONFIG_PATH is not set
  --watch-config           reload when the config file changes (as SIGHUP does)
  --schema                 print the JSON Schema of the config format, then exit
  --version                print "authotron <version>", then exit
  -h, --help               print this help, then exit

Docs: README.md, docs/configuration.md, docs/operations.md`;

/** Options `main.ts` knows; anything else is reported and ignored, as auth-o-tron ignores it. */
const OPTIONS = {
  help: { type: "boolean", short: "h" },
  version: { type: "boolean" },
  schema: { type: "boolean" },
  "check-config": { type: "boolean" },
  explain: { type: "boolean" },
  realm: { type: "string" },
  strict: { type: "boolean" },
  "typecheck-plugins": { type: "boolean" },
  "default-config": { type: "string" },
  "watch-config": { type: "boolean" },
} as const;

/** Parses `args` (without the program name); never throws. */
export function parseCommandLine(args: readonly string[]): CliOptions {
  const { values, positionals, tokens } = parseArgs({
    args: [...args],
    strict: false,
    allowPositionals: true,
    tokens: true,
    options: OPTIONS,
  });
  const ignored = tokens.flatMap((token) =>
    token.kind === "option" && !Object.hasOwn(OPTIONS, token.name) ? [token.rawName] : []
  );
  const mode: CliMode = values.schema === true
    ? "schema"
    : values.help === true
    ? "help"
    : values.version === true
    ? "version"
    : values["check-config"] === true
    ? "check-config"
    : values.explain === true
    ? "explain"
    : "serve";
  const defaultConfig = values["default-config"];
  return {
    mode,
    ...((mode === "check-config" || mode === "explain") && positionals[0] !== undefined
      ? { pathArgument: positionals[0] }
      : {}),
    ...(typeof values.realm === "string" ? { realm: values.realm } : {}),
    ...(typeof defaultConfig === "string" ? { defaultConfig } : {}),
    strict: values.strict === true,
    typecheckPlugins: values["typecheck-plugins"] === true,
    watchConfig: values["watch-config"] === true,
    ignored,
  };
}
