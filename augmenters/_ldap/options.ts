/**
 * Options of the `ldap` augmenter: the original's keys (`uri`,
 * `search_base`, `bind_dn`, `ldap_password`, `filter`, `filters`) plus TLS,
 * secret sources, cache, pool and timeout settings. {@link parseLdapOptions}
 * is pure; `_ldap/secrets.ts` reads the password and CA at startup.
 *
 * @module
 */

import { missingOption, OptionsError, type PluginOptions } from "../../lib/plugin.ts";
import { ALLOW_INSECURE_TRANSPORT, checkTransport } from "../../providers/_shared/transport.ts";
import { type RoleRule, roleRule } from "./roles.ts";

/** Where the bind password comes from (exactly one source). */
export type PasswordSource =
  | { readonly key: "ldap_password"; readonly value: string }
  | { readonly key: "ldap_password_env"; readonly name: string }
  | { readonly key: "ldap_password_file"; readonly path: string };

/** Checked options of the `ldap` augmenter. */
export interface LdapOptions {
  /** `ldap://host:port` or `ldaps://host:port`. */
  readonly uri: string;
  /** Subtree searched for `(&(objectClass=person)(cn=<username>))`. */
  readonly searchBase: string;
  /** DN of the service account used for the simple bind. */
  readonly bindDn: string;
  /** Where its password comes from. */
  readonly password: PasswordSource;
  /** How `memberOf` DNs become roles. */
  readonly rule: RoleRule;
  /** Upgrade `ldap://` connections with StartTLS. */
  readonly startTls: boolean;
  /** PEM file of the CA(s) to trust for TLS, relative to the config file. */
  readonly caFile: string | undefined;
  /** Cache lifetime of a lookup in seconds (0: no caching, still single-flight). */
  readonly cacheTtlS: number;
  /** At most this many cached usernames. */
  readonly cacheMaxEntries: number;
  /** At most this many open connections. */
  readonly poolSize: number;
  /** TCP (and TLS) connect timeout. */
  readonly connectTimeoutMs: number;
  /** Timeout of each LDAP operation (bind, StartTLS, search). */
  readonly operationTimeoutMs: number;
}

/** Every option key the augmenter knows (`ldap_user` is the original's removed key, accepted and ignored). */
export const LDAP_OPTION_KEYS: ReadonlySet<string> = new Set([
  "uri",
  "search_base",
  "bind_dn",
  "ldap_password",
  "ldap_password_env",
  "ldap_password_file",
  "filter",
  "filters",
  "start_tls",
  "ca_file",
  "cache_ttl_s",
  "cache_max_entries",
  "pool_size",
  "connect_timeout_ms",
  "operation_timeout_ms",
  "ldap_user",
  ALLOW_INSECURE_TRANSPORT,
]);

function requiredString(options: PluginOptions, key: string): string {
  const value = options[key];
  if (typeof value !== "string" || value.trim() === "") {
    if (value === undefined || value === null) throw missingOption(options, [key]);
    throw new OptionsError([key], "expected a non-empty string");
  }
  return value;
}

function optionalString(options: PluginOptions, key: string): string | undefined {
  const value = options[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw new OptionsError([key], "expected a string");
  return value;
}

function integer(options: PluginOptions, key: string, min: number, max: number, fallback: number) {
  const value = options[key] ?? fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new OptionsError([key], `expected an integer from ${min} to ${max}`);
  }
  return value;
}

function parseUri(options: PluginOptions): string {
  const uri = requiredString(options, "uri");
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new OptionsError(["uri"], "expected an ldap:// or ldaps:// URL");
  }
  if (url.protocol !== "ldap:" && url.protocol !== "ldaps:") {
    throw new OptionsError(["uri"], "expected an ldap:// or ldaps:// URL");
  }
  if (url.username !== "" || url.password !== "" || !["", "/"].includes(url.pathname)) {
    throw new OptionsError(
      ["uri"],
      "give only scheme, host and port (use bind_dn and a password key)",
    );
  }
  return uri;
}

function parsePassword(options: PluginOptions): PasswordSource {
  const given = ["ldap_password", "ldap_password_env", "ldap_password_file"]
    .filter((key) => options[key] !== undefined && options[key] !== null);
  if (given.length !== 1) {
    throw new OptionsError(
      [given[1] ?? "ldap_password"],
      "give exactly one of ldap_password, ldap_password_env or ldap_password_file",
    );
  }
  const key = given[0];
  if (key === "ldap_password") {
    const value = options[key];
    // Spaces are legal in a password; only an empty one is refused.
    if (typeof value !== "string" || value === "") {
      throw new OptionsError([key], "expected a non-empty string");
    }
    return { key, value };
  }
  const value = requiredString(options, key);
  if (key === "ldap_password_env") return { key, name: value };
  return { key: "ldap_password_file", path: value };
}

function parseRule(options: PluginOptions): RoleRule {
  const filter = optionalString(options, "filter");
  const raw = options.filters;
  if (raw === undefined || raw === null) return roleRule(filter, undefined);
  if (!Array.isArray(raw)) throw new OptionsError(["filters"], "expected a list of DN fragments");
  raw.forEach((item, index) => {
    if (typeof item !== "string") throw new OptionsError(["filters", index], "expected a string");
    try {
      roleRule(undefined, [item]);
    } catch (error) {
      throw new OptionsError(["filters", index], (error as Error).message);
    }
  });
  return roleRule(filter, raw as string[]);
}

/** Checks and normalises the options (pure, no I/O). Throws {@link OptionsError}. */
export function parseLdapOptions(options: PluginOptions): LdapOptions {
  for (const key of Object.keys(options)) {
    if (!LDAP_OPTION_KEYS.has(key)) {
      throw new OptionsError([key], `unknown key; valid keys: ${[...LDAP_OPTION_KEYS].join(", ")}`);
    }
  }
  const uri = parseUri(options);
  const startTls = options.start_tls ?? false;
  if (typeof startTls !== "boolean") {
    throw new OptionsError(["start_tls"], "expected true or false");
  }
  const secure = uri.toLowerCase().startsWith("ldaps:");
  if (startTls && secure) {
    throw new OptionsError(
      ["start_tls"],
      "StartTLS needs an ldap:// uri (ldaps:// is TLS already)",
    );
  }
  const caFile = optionalString(options, "ca_file");
  if (caFile !== undefined && !secure && !startTls) {
    throw new OptionsError(["ca_file"], "only used with an ldaps:// uri or start_tls: true");
  }
  checkTransport(options, ["uri"], uri, startTls);
  return {
    uri,
    searchBase: requiredString(options, "search_base"),
    bindDn: requiredString(options, "bind_dn"),
    password: parsePassword(options),
    rule: parseRule(options),
    startTls,
    caFile,
    cacheTtlS: integer(options, "cache_ttl_s", 0, 86_400, 120),
    cacheMaxEntries: integer(options, "cache_max_entries", 1, 1_000_000, 10_000),
    poolSize: integer(options, "pool_size", 1, 64, 4),
    connectTimeoutMs: integer(options, "connect_timeout_ms", 1, 600_000, 5_000),
    operationTimeoutMs: integer(options, "operation_timeout_ms", 1, 600_000, 5_000),
  };
}
