/**
 * Loads every provider and augmenter the same way: resolve `type:` to a
 * built-in module or `module:` against the config file, `import()` it, check
 * its default export at run time, check its options, then `create()` it.
 *
 * Folder `lib/plugins/`: plugin loading, type-checking `module:` plugins and plugin health;
 * the services the host hands plugins (caches, upstream HTTP) are the plugin package's
 * (`packages/plugin/_host/`). Imports `lib/util/`, `lib/config/`, `lib/observability/`.
 *
 * @module
 */

import type { Config, PluginEntry, UnknownKey } from "../config/types.ts";
import { HOST_KEYS } from "../config/plugins.ts";
import { unknownKeysOf } from "../config/unknown_keys.ts";
import { ConfigError, errorMessage, type GatewayErrorCode } from "../util/errors.ts";
import type { Logger } from "../observability/log.ts";
import {
  type Augmenter,
  type AugmenterModule,
  OptionsError,
  type PluginContext,
  type Provider,
  type ProviderModule,
} from "../plugin.ts";
import { instanceProblem, moduleProblem } from "../../packages/plugin/_host/shape.ts";

/** Built-in provider types; `type: x-y` lives in `providers/x_y.ts`. */
export const BUILTIN_PROVIDERS: readonly string[] = [
  "plain",
  "jwt",
  "openid-offline",
  "ecmwf-api",
  "efas-api",
  "ecmwf-token-generator",
];

/** Built-in augmenter types; `type: x` lives in `augmenters/x.ts`. */
export const BUILTIN_AUGMENTERS: readonly string[] = [
  "plain",
  "plain_advanced",
  "ldap",
];

/** A plugin module checked against the contract, with its parsed options. */
export interface CheckedPlugin<M> {
  /** The entry it came from. */
  readonly entry: PluginEntry;
  /** The module's default export. */
  readonly module: M;
  /** Options after `parseOptions` (or as written when the module has none). */
  readonly options: unknown;
  /** `type`, or the `module` specifier. */
  readonly typeLabel: string;
  /** Option keys the module does not declare (none when it declares no `optionKeys`). */
  readonly unknownKeys: readonly UnknownKey[];
}

/** Where an entry's module lives: the built-in file for `type:`, else `module:` against the config. */
export function resolvePluginUrl(entry: PluginEntry, config: Config): URL {
  if (entry.type !== undefined) {
    const builtins = entry.kind === "provider" ? BUILTIN_PROVIDERS : BUILTIN_AUGMENTERS;
    if (!builtins.includes(entry.type)) {
      throw entryError(
        config,
        entry,
        "ERR_PLUGIN_LOAD",
        ["type"],
        `unknown ${entry.kind} type "${entry.type}"; valid types: ${builtins.join(", ")} ` +
          `(or use "module:" for a third-party plugin)`,
      );
    }
    const folder = entry.kind === "provider" ? "providers" : "augmenters";
    return new URL(
      `../../${folder}/${entry.type.replaceAll("-", "_")}.ts`,
      import.meta.url,
    );
  }
  const specifier = entry.module ?? "";
  let url: URL;
  try {
    url = new URL(specifier, config.fileUrl);
  } catch {
    throw entryError(
      config,
      entry,
      "ERR_PLUGIN_LOAD",
      ["module"],
      `invalid module path "${specifier}"`,
    );
  }
  if (!["file:", "https:", "http:"].includes(url.protocol)) {
    throw entryError(
      config,
      entry,
      "ERR_PLUGIN_LOAD",
      ["module"],
      `unsupported module URL scheme "${url.protocol}" (use a path, file: or https:)`,
    );
  }
  return url;
}

/** Imports an entry's module and checks its default export and options. */
export async function checkPlugin(
  entry: PluginEntry,
  config: Config,
): Promise<CheckedPlugin<ProviderModule | AugmenterModule>> {
  const url = resolvePluginUrl(entry, config);
  let namespace: Record<string, unknown>;
  try {
    namespace = await import(url.href);
  } catch (error) {
    throw entryError(
      config,
      entry,
      "ERR_PLUGIN_LOAD",
      [entry.type !== undefined ? "type" : "module"],
      `cannot import ${url.href}: ${errorMessage(error)}`,
      error,
    );
  }
  const module = namespace.default;
  const problem = moduleProblem(entry.kind, module);
  if (problem !== undefined) {
    throw entryError(
      config,
      entry,
      "ERR_PLUGIN_LOAD",
      [],
      `${url.href}: ${problem}`,
    );
  }
  const checked = module as ProviderModule | AugmenterModule;
  let options: unknown = entry.options;
  if (checked.parseOptions !== undefined) {
    try {
      options = checked.parseOptions(entry.options);
    } catch (error) {
      throw optionsError(config, entry, error) ??
        entryError(config, entry, "ERR_PLUGIN_OPTIONS", [], errorMessage(error), error);
    }
  }
  return {
    entry,
    module: checked,
    options,
    typeLabel: entry.type ?? entry.module ?? "",
    unknownKeys: unknownOptionKeys(entry, checked.optionKeys, config),
  };
}

/**
 * The option keys of `entry` that its plugin does not declare. A plugin that
 * declares none gets every key, except those that look like a misspelled host
 * key (`relam`, `on_eror`): those are reported all the same.
 */
function unknownOptionKeys(
  entry: PluginEntry,
  optionKeys: readonly string[] | undefined,
  config: Config,
): UnknownKey[] {
  const hostKeys: readonly string[] = HOST_KEYS[entry.kind];
  const found = unknownKeysOf(
    entry.options,
    entry.path,
    [...optionKeys ?? [], ...hostKeys],
    config.locate,
  );
  return optionKeys !== undefined
    ? found
    : found.filter((key) =>
      key.suggestion !== undefined && hostKeys.includes(String(key.suggestion.at(-1)))
    );
}

const TIMED_OUT = Symbol("timed out");

/** What the host offers every plugin besides its options. */
export type PluginServices = Pick<PluginContext, "http" | "createCache" | "credentialKey">;

/** Calls `create` on a checked plugin with its context. */
export async function createPlugin(
  plugin: CheckedPlugin<ProviderModule | AugmenterModule>,
  config: Config,
  log: Logger,
  services: PluginServices,
): Promise<Provider | Augmenter> {
  const context: PluginContext = {
    name: plugin.entry.name,
    realm: plugin.entry.realm,
    type: plugin.typeLabel,
    configUrl: config.fileUrl,
    log,
    http: services.http,
    createCache: services.createCache,
    credentialKey: services.credentialKey,
  };
  let instance: unknown;
  const timeoutMs = config.auth.pluginCreateTimeoutMs;
  const creating = Promise.resolve().then(() =>
    plugin.module.create(plugin.options as never, context)
  );
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), timeoutMs);
  });
  try {
    instance = await Promise.race([creating, timedOut]);
    if (instance === TIMED_OUT) {
      // Should it finish later, the instance is disposed rather than leaked.
      creating.then((late) => late[Symbol.asyncDispose]?.(), () => {}).catch(() => {});
      throw entryError(
        config,
        plugin.entry,
        "ERR_PLUGIN_CREATE",
        [],
        `create() did not finish within ${timeoutMs} ms (auth.plugin_create_timeout_ms)`,
      );
    }
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw optionsError(config, plugin.entry, error) ?? entryError(
      config,
      plugin.entry,
      "ERR_PLUGIN_CREATE",
      [],
      `create() failed: ${errorMessage(error)}`,
      error,
    );
  } finally {
    clearTimeout(timer);
  }
  const problem = instanceProblem(plugin.entry.kind, instance);
  if (problem !== undefined) {
    throw entryError(config, plugin.entry, "ERR_PLUGIN_LOAD", [], problem);
  }
  return instance as Provider | Augmenter;
}

/** An `OptionsError` from a plugin as the config error at its key; `undefined` for anything else. */
function optionsError(config: Config, entry: PluginEntry, error: unknown): ConfigError | undefined {
  return error instanceof OptionsError
    ? entryError(config, entry, "ERR_PLUGIN_OPTIONS", error.path, error.message, error)
    : undefined;
}

function entryError(
  config: Config,
  entry: PluginEntry,
  code: GatewayErrorCode,
  subPath: readonly (string | number)[],
  detail: string,
  cause?: unknown,
): ConfigError {
  const path = [...entry.path, ...subPath];
  return new ConfigError(
    code,
    config.locate(path),
    path,
    `${entry.kind} "${entry.name}": ${detail}`,
    cause === undefined ? undefined : { cause },
  );
}
