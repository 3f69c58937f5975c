/**
 * Helpers for tests of the `ldap` augmenter: build it from options the way
 * the host does, call it for a username, and run a TCP server that accepts
 * LDAP connections and never answers.
 *
 * @module
 */

import ldap, { type LdapAugmenterStatus } from "../../augmenters/ldap.ts";
import type { Augmenter, PluginContext, ResolvedUser, UserPatch } from "../../lib/plugin.ts";
import type { SlapdServer } from "./slapd.ts";
import { callContext, pluginContext } from "./plugin_context.ts";

/** A live LDAP augmenter that `await using` disposes, with its typed `status()`. */
export interface TestLdapAugmenter extends AsyncDisposable {
  /** The plugin's `augment`. */
  augment: Augmenter["augment"];
  /** The plugin's `status()`. */
  status(): LdapAugmenterStatus;
  /** Closes its connections. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Parses `options` and creates the augmenter (as the plugin loader does). */
export async function createLdapAugmenter(
  options: Record<string, unknown>,
  context: PluginContext = pluginContext("directory", "corp"),
): Promise<TestLdapAugmenter> {
  const augmenter = await ldap.create(ldap.parseOptions!(options), context);
  const dispose = augmenter[Symbol.asyncDispose];
  if (dispose === undefined) throw new Error("the ldap augmenter must be disposable");
  return {
    augment: (user, ctx) => augmenter.augment(user, ctx),
    status: () => augmenter.status!() as LdapAugmenterStatus,
    [Symbol.asyncDispose]: () => dispose.call(augmenter),
  };
}

/** The original's options for a test slapd (service account bind, whole suffix). */
export function slapdOptions(
  server: SlapdServer,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    uri: server.url,
    search_base: server.searchBase,
    bind_dn: server.bindDn,
    ldap_password: server.bindPassword,
    ...extra,
  };
}

/** Options for a server that accepts connections and never answers (bounds are the test). */
export function silentOptions(
  silent: SilentServer,
  operationTimeoutMs: number,
): Record<string, unknown> {
  return {
    uri: `ldap://127.0.0.1:${silent.port}`,
    search_base: "dc=example,dc=org",
    bind_dn: "cn=gateway,dc=example,dc=org",
    ldap_password: "pw",
    operation_timeout_ms: operationTimeoutMs,
  };
}

/** A user of realm `corp` as the host hands it to augmenters. */
export function ldapUser(username: string, roles: string[] = []): ResolvedUser {
  return { version: 1, username, realm: "corp", roles, attributes: {}, scopes: {} };
}

/** Calls `augment` for `username` with a signal that never fires unless `signal` is given. */
export async function rolesOf(
  augmenter: Pick<Augmenter, "augment">,
  username: string,
  signal?: AbortSignal,
): Promise<string[] | undefined> {
  const patch: UserPatch | undefined = await augmenter.augment(
    ldapUser(username),
    callContext(signal),
  );
  return patch?.roles;
}

/** A TCP server on 127.0.0.1 that accepts connections, reads, and never writes. */
export interface SilentServer extends AsyncDisposable {
  /** Its port. */
  readonly port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Connections the client has closed so far. */
  readonly closedByClient: number;
}

/** Starts a {@link SilentServer}. */
export function startSilentServer(): SilentServer {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  const readers: Promise<void>[] = [];
  let accepted = 0;
  let closedByClient = 0;
  const drain = async (conn: Deno.Conn) => {
    const buffer = new Uint8Array(4096);
    try {
      while ((await conn.read(buffer)) !== null) { /* swallow the request, answer nothing */ }
      closedByClient++;
    } catch {
      // closed by the server side at shutdown
    }
    if (conns.delete(conn)) conn.close();
  };
  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        accepted++;
        conns.add(conn);
        readers.push(drain(conn));
      }
    } catch {
      // listener closed
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    get accepted() {
      return accepted;
    },
    get closedByClient() {
      return closedByClient;
    },
    async [Symbol.asyncDispose]() {
      listener.close();
      for (const conn of conns) conn.close();
      conns.clear();
      await accepting;
      await Promise.all(readers);
    },
  };
}

/** Polls `condition` every 20 ms until it holds or `timeoutMs` passes. */
export async function eventually(condition: () => boolean, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}
