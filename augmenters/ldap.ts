/**
 * `ldap` augmenter (spec 6.4): binds with a service account, searches
 * `search_base` (subtree) for `(&(objectClass=person)(cn=<username>))` and
 * turns the `memberOf` DNs into roles by the original's rules (see
 * `_ldap/roles.ts`). Unlike the original, the username is escaped (RFC 4515),
 * connections are pooled, every step honours the host's augmenter timeout,
 * lookups are cached (bounded, single-flight), roles are deduplicated, and
 * a username matching several entries is an error (fail closed), not a merge.
 *
 * @module
 */

import type { Entry } from "ldapts";
import { defineAugmenter, type PluginOptions, UpstreamUnavailableError } from "../lib/plugin.ts";
import { bounded } from "./_ldap/errors.ts";
import { personFilter } from "./_ldap/filter.ts";
import { LDAP_OPTION_KEYS, type LdapOptions, parseLdapOptions } from "./_ldap/options.ts";
import { warnInsecureTransport } from "../providers/_shared/transport.ts";
import { loadLdapSecrets } from "./_ldap/secrets.ts";
import { LdapPool, type LdapPoolStats } from "./_ldap/pool.ts";
import { rolesFromMemberOf } from "./_ldap/roles.ts";

/** What `status()` returns (JSON, never a secret). */
export interface LdapAugmenterStatus extends Record<string, unknown> {
  /** The configured server. */
  readonly uri: string;
  /** Connections open (idle + in use), idle, callers waiting for one, and the bound. */
  readonly pool: { open: number; idle: number; waiting: number; size: number };
  /** Connection counters. */
  readonly connections: LdapPoolStats;
  /** Cached usernames and the cache settings. */
  readonly cache: { entries: number; ttl_s: number; max_entries: number };
  /** `augment` calls. */
  readonly lookups: number;
  /** LDAP searches started (cache misses that were not joined to one in flight). */
  readonly searches: number;
  /** Searches that failed. */
  readonly failures: number;
  /** The last failure, if any. */
  readonly last_error: { message: string; at: string } | null;
}

/** The `memberOf` values of an entry as strings, whatever case the server used for the name. */
function memberOf(entry: Entry): string[] {
  const key = Object.keys(entry).find((k) => k.toLowerCase() === "memberof");
  if (key === undefined) return [];
  return [entry[key]].flat().map((v) => typeof v === "string" ? v : new TextDecoder().decode(v));
}

/** The `ldap` augmenter. */
export default defineAugmenter<LdapOptions>({
  optionKeys: [...LDAP_OPTION_KEYS],
  parseOptions(options: PluginOptions): LdapOptions {
    return parseLdapOptions(options);
  },
  async create(options, context) {
    warnInsecureTransport(
      context.log,
      "augmenters.ldap.insecure_transport",
      { uri: options.uri },
      options.startTls,
    );
    const secrets = await loadLdapSecrets(options, context.configUrl);
    const pool = new LdapPool({
      uri: options.uri,
      bindDn: options.bindDn,
      password: secrets.password,
      startTls: options.startTls,
      caPem: secrets.caPem,
      size: options.poolSize,
      connectTimeoutMs: options.connectTimeoutMs,
      operationTimeoutMs: options.operationTimeoutMs,
    });
    const cache = context.createCache<readonly string[]>("roles", {
      ttlMs: options.cacheTtlS * 1000,
      maxEntries: options.cacheMaxEntries,
    });
    const counts = { lookups: 0, searches: 0, failures: 0 };
    let lastError: { message: string; at: string } | undefined;
    const timeLimit = Math.ceil(options.operationTimeoutMs / 1000);

    async function search(username: string, signal: AbortSignal): Promise<readonly string[]> {
      counts.searches++;
      const started = performance.now();
      try {
        const { searchEntries } = await pool.run(
          signal,
          (client) =>
            client.search(options.searchBase, {
              scope: "sub",
              filter: personFilter(username),
              attributes: ["memberOf"],
              timeLimit,
            }),
        );
        if (searchEntries.length > 1) {
          context.log.warn("augmenters.ldap.ambiguous", "several entries match the username", {
            augmenter: context.name,
            username,
            entries: searchEntries.length,
          });
          // Fail closed: never guess whose roles these are (on_error decides).
          throw new UpstreamUnavailableError(
            `LDAP search ambiguous: ${searchEntries.length} entries match the username`,
            "ambiguous",
          );
        }
        const roles = rolesFromMemberOf(searchEntries.flatMap(memberOf), options.rule);
        context.log.debug("augmenters.ldap.lookup", "looked up LDAP roles", {
          augmenter: context.name,
          username,
          entries: searchEntries.length,
          roles_count: roles.length,
          duration_ms: Math.round(performance.now() - started),
        });
        return roles;
      } catch (error) {
        counts.failures++;
        lastError = {
          message: error instanceof Error ? error.message : String(error),
          at: new Date().toISOString(),
        };
        throw error;
      }
    }

    context.log.info("augmenters.ldap.created", "LDAP augmenter ready", {
      augmenter: context.name,
      uri: options.uri,
      start_tls: options.startTls,
      pool_size: options.poolSize,
      cache_ttl_s: options.cacheTtlS,
    });
    return {
      async augment(user, ctx) {
        counts.lookups++;
        // A caller that joined another one's search still stops at its own deadline.
        const roles = await bounded(
          cache.getOrLoad(user.username, () => search(user.username, ctx.signal)),
          ctx.signal,
          "lookup",
          () => {},
        );
        return roles.length === 0 ? undefined : { roles: [...roles] };
      },
      status(): LdapAugmenterStatus {
        return {
          uri: options.uri,
          pool: pool.state,
          connections: { ...pool.stats },
          cache: {
            entries: cache.size,
            ttl_s: options.cacheTtlS,
            max_entries: options.cacheMaxEntries,
          },
          lookups: counts.lookups,
          searches: counts.searches,
          failures: counts.failures,
          last_error: lastError ?? null,
        };
      },
      [Symbol.asyncDispose]: () => pool[Symbol.asyncDispose](),
    };
  },
});
