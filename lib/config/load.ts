/**
 * Configuration loading: a YAML file (v1 or v2) plus `AOT_*` environment
 * overrides → the resolved {@link Config}. Every problem is a
 * {@link ConfigError} naming file, line:col (or the variable) and key path.
 *
 * Differences from the original: the file is not searched for in parent
 * directories, and a missing file is an error, except that when `AOT_VERSION`
 * is set a missing file counts as an empty document (a config made of
 * environment variables alone).
 *
 * Folder `lib/config/`: everything that turns a YAML file and the environment into a
 * {@link Config} (YAML reading, v1/v2, `AOT_*` overrides, sections, schema, types). Imports only
 * `lib/util/`.
 *
 * @example
 * ```ts
 * const config = await loadConfig(configPathFromEnv(Deno.env.toObject()));
 * ```
 *
 * @module
 */

import { pathToFileURL } from "node:url";
import type { Config, Locate } from "./types.ts";
import { ConfigError } from "../util/errors.ts";
import { parseYamlConfig } from "./yaml.ts";
import { applyEnvOverrides, envOverrides } from "./env.ts";
import { buildConfig } from "./build.ts";
import { configSchema } from "./schema.ts";
import { findUnknownKeys } from "./unknown_keys.ts";

/** Config files larger than this are refused. */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

/** The default config path when `AOT_CONFIG_PATH` is not set. */
export const DEFAULT_CONFIG_PATH = "./config.yaml";

/**
 * Reads and resolves the config file at `path` with overrides from `env`
 * (default: the process environment). Every section and plugin entry is
 * checked; several problems come as one `ConfigErrors` listing each, in file
 * order. Throws {@link ConfigError}:
 * `ERR_CONFIG_READ` (missing, unreadable, too large, not UTF-8),
 * `ERR_CONFIG_SYNTAX` (bad YAML, alias bomb) or `ERR_CONFIG_INVALID`.
 */
export async function loadConfig(
  path: string,
  env: Record<string, string> = Deno.env.toObject(),
): Promise<Config> {
  return parseConfig(await readConfigText(path, env), path, env);
}

/**
 * Resolves config text as if read from `file` (used for messages and as the
 * base URL of plugin `module:` paths). Pure apart from reading the working
 * directory to build that URL. Throws {@link ConfigError}.
 */
export function parseConfig(
  text: string,
  file: string,
  env: Record<string, string> = Deno.env.toObject(),
): Config {
  const yaml = parseYamlConfig(text, file);
  const origin = applyEnvOverrides(yaml.root, envOverrides(env, file));
  const locate: Locate = (path, key) => {
    const name = origin(path);
    return name === undefined ? yaml.position(path, key) : { file, env: name };
  };
  const config = buildConfig(
    { file, fileUrl: pathToFileURL(file), locate, errors: [] },
    yaml.root,
  );
  return { ...config, unknownKeys: findUnknownKeys(yaml.root, locate) };
}

/** The JSON Schema (draft 2020-12) of the config file format, for `--schema`. */
export function configJsonSchema(): Record<string, unknown> {
  return configSchema();
}

/** The config path: `AOT_CONFIG_PATH` when set and not empty, else `./config.yaml`. */
export function configPathFromEnv(env: Record<string, string>): string {
  return env.AOT_CONFIG_PATH || DEFAULT_CONFIG_PATH;
}

async function readConfigText(
  path: string,
  env: Record<string, string>,
): Promise<string> {
  const fail = (detail: string, cause?: unknown): never => {
    throw new ConfigError(
      "ERR_CONFIG_READ",
      { file: path },
      [],
      detail,
      cause === undefined ? undefined : { cause },
    );
  };
  const tooLarge = `is larger than ${MAX_CONFIG_BYTES} bytes`;
  let bytes: Uint8Array;
  try {
    const info = await Deno.stat(path);
    if (!info.isFile) fail("cannot be read: it is not a regular file");
    if (info.size > MAX_CONFIG_BYTES) fail(tooLarge);
    bytes = await Deno.readFile(path);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    if (!(error instanceof Deno.errors.NotFound)) {
      return fail(`cannot be read: ${(error as Error).message}`, error);
    }
    if (Object.keys(env).some((k) => k.toLowerCase() === "aot_version")) {
      return "";
    }
    return fail(
      "does not exist: set AOT_CONFIG_PATH to the config file, or set AOT_VERSION to configure from environment variables alone",
    );
  }
  if (bytes.length > MAX_CONFIG_BYTES) fail(tooLarge);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (error) {
    return fail("is not valid UTF-8 text", error);
  }
}
