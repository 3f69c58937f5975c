/**
 * `--check-config --typecheck-plugins`: runs `deno check` on every `module:`
 * plugin of a config with the gateway's own `deno.json`, so the bare
 * specifier `@authotron/plugin` resolves exactly as when the gateway loads the
 * plugin. The loader only checks shapes at run time; this catches type errors
 * before deploy.
 *
 * @module
 */

import type { Config, PluginEntry } from "../config/types.ts";
import { ConfigError, GatewayError } from "../util/errors.ts";
import { resolvePluginUrl } from "./loader.ts";

const GATEWAY_CONFIG = new URL("../../deno.json", import.meta.url);

/** The `module:` entries of a config (built-in `type:` plugins are checked with the gateway). */
function moduleEntries(config: Config): PluginEntry[] {
  return [...config.providers, ...config.augmenters].filter((e) => e.module !== undefined);
}

/**
 * Type-checks every `module:` plugin; resolves to how many were checked.
 * Throws `ERR_PLUGIN_TYPES` at the entry's `module` key with `deno check`'s
 * diagnostics, or `ERR_STARTUP` when `deno check` cannot be run (no
 * `--allow-run`, or a compiled binary without the Deno CLI).
 */
export async function typecheckPlugins(config: Config): Promise<number> {
  const entries = moduleEntries(config);
  if (entries.length === 0) return 0;
  const deno = Deno.execPath();
  if (!/^deno(?:\.exe)?$/.test(deno.split(/[\\/]/).pop() ?? "")) {
    throw new GatewayError(
      "ERR_STARTUP",
      "--typecheck-plugins runs `deno check`: use the Deno CLI (deno run main.ts), not a compiled binary",
    );
  }
  const permission = await Deno.permissions.query({ name: "run", command: deno });
  if (permission.state !== "granted") {
    throw new GatewayError(
      "ERR_STARTUP",
      "--typecheck-plugins runs `deno check`: grant it with --allow-run " +
        "(deno task check-plugins does)",
    );
  }
  for (const entry of entries) {
    const url = resolvePluginUrl(entry, config);
    const out = await new Deno.Command(deno, {
      args: ["check", "--quiet", "--config", GATEWAY_CONFIG.pathname, url.href],
      env: { NO_COLOR: "1", RUST_BACKTRACE: "0" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      const diagnostics = (new TextDecoder().decode(out.stdout) +
        new TextDecoder().decode(out.stderr)).trim();
      const path = [...entry.path, "module"];
      throw new ConfigError(
        "ERR_PLUGIN_TYPES",
        config.locate(path),
        path,
        `${entry.kind} "${entry.name}": deno check failed for ${url.href}:\n${diagnostics}`,
      );
    }
  }
  return entries.length;
}
