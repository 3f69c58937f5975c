/**
 * A small pool of bound `ldapts` connections for the LDAP augmenter:
 * connect (ldaps:// or StartTLS with a configurable CA), simple-bind once,
 * reuse for many searches, drop a connection that broke, and honour the
 * caller's `AbortSignal` at every step (the host's augmenter timeout).
 *
 * @module
 */

import { isIP } from "node:net";
import { Client, ResultCodeError } from "ldapts";
import { UpstreamUnavailableError } from "../../lib/plugin.ts";
import { abortError, bounded, unavailable } from "./errors.ts";

/** Settings of an {@link LdapPool}. */
export interface LdapPoolSettings {
  /** `ldap://…` or `ldaps://…`. */
  readonly uri: string;
  /** Service account DN. */
  readonly bindDn: string;
  /** Its password (kept in memory only, never logged). */
  readonly password: string;
  /** Upgrade with StartTLS after connecting (ldap:// only). */
  readonly startTls: boolean;
  /** CA PEM to trust instead of the system store. */
  readonly caPem: string | undefined;
  /** Most connections open at once. */
  readonly size: number;
  /** TCP/TLS connect timeout for ldapts. */
  readonly connectTimeoutMs: number;
  /** Per-operation timeout for ldapts. */
  readonly operationTimeoutMs: number;
}

/** Counters for `status()`. */
export interface LdapPoolStats {
  /** Connections opened and bound. */
  connects: number;
  /** Connection attempts that failed (connect, TLS or bind). */
  connectFailures: number;
  /** Operations that ran on an already open connection. */
  reuses: number;
  /** Connections dropped because they broke, were aborted or the pool closed. */
  discards: number;
}

/** Closes a client without waiting on or failing because of the server. */
function destroy(client: Client): Promise<void> {
  return client.unbind().catch(() => {});
}

/** A bounded set of bound connections, reused across lookups. */
export class LdapPool implements AsyncDisposable {
  readonly #settings: LdapPoolSettings;
  readonly #idle: Client[] = [];
  readonly #waiters = new Set<() => void>();
  #open = 0;
  #closed = false;
  /** Counters for `status()`. */
  readonly stats: LdapPoolStats = { connects: 0, connectFailures: 0, reuses: 0, discards: 0 };

  /** Creates an empty pool (connections open on first use). */
  constructor(settings: LdapPoolSettings) {
    this.#settings = settings;
  }

  /** Open connections (idle + in use) and idle ones. */
  get state(): { open: number; idle: number; waiting: number; size: number } {
    return {
      open: this.#open,
      idle: this.#idle.length,
      waiting: this.#waiters.size,
      size: this.#settings.size,
    };
  }

  /**
   * Runs `operation` on a bound connection, bounded by `signal`. A reused
   * connection that fails without an LDAP result (it was closed under us) is
   * replaced and the operation retried once on a fresh one.
   */
  async run<T>(signal: AbortSignal, operation: (client: Client) => Promise<T>): Promise<T> {
    const first = await this.#acquire(signal);
    try {
      return await this.#use(first.client, signal, operation);
    } catch (error) {
      if (!first.reused || signal.aborted || this.#closed || error instanceof ResultCodeError) {
        throw unavailable("search", error);
      }
    }
    const fresh = await this.#acquire(signal, true);
    try {
      return await this.#use(fresh.client, signal, operation);
    } catch (error) {
      throw unavailable("search", error);
    }
  }

  async #use<T>(
    client: Client,
    signal: AbortSignal,
    operation: (client: Client) => Promise<T>,
  ): Promise<T> {
    let healthy = false;
    try {
      const result = await bounded(operation(client), signal, "search", () => destroy(client));
      healthy = true;
      return result;
    } catch (error) {
      // The server answered with a result code: the connection itself is fine.
      healthy = error instanceof ResultCodeError && client.isBound;
      throw error;
    } finally {
      this.#release(client, healthy);
    }
  }

  async #acquire(signal: AbortSignal, fresh = false): Promise<{ client: Client; reused: boolean }> {
    while (true) {
      if (this.#closed) throw new UpstreamUnavailableError("LDAP pool is closed", "closed");
      if (signal.aborted) throw abortError(signal, "connect");
      const idle = fresh ? undefined : this.#idle.pop();
      if (idle !== undefined) {
        if (idle.isBound) {
          this.stats.reuses++;
          return { client: idle, reused: true };
        }
        this.#discard(idle);
        continue;
      }
      if (this.#open < this.#settings.size) {
        this.#open++;
        try {
          return { client: await this.#connect(signal), reused: false };
        } catch (error) {
          this.#open--;
          this.stats.connectFailures++;
          this.#wakeOne();
          throw unavailable("connect/bind", error);
        }
      }
      if (fresh && this.#idle.length > 0) {
        this.#discard(this.#idle.shift()!);
        continue;
      }
      await this.#waitForRelease(signal);
    }
  }

  async #connect(signal: AbortSignal): Promise<Client> {
    const { uri, bindDn, password, startTls, caPem } = this.#settings;
    const secure = uri.toLowerCase().startsWith("ldaps:");
    const ca = caPem === undefined ? undefined : [caPem];
    const client = new Client({
      url: uri,
      connectTimeout: this.#settings.connectTimeoutMs,
      timeout: this.#settings.operationTimeoutMs,
      // ldapts treats any tlsOptions as "connect with TLS": only for ldaps://.
      ...(secure && ca !== undefined ? { tlsOptions: { ca } } : {}),
    });
    const setup = async () => {
      if (startTls) {
        const host = new URL(uri).hostname.replace(/^\[|\]$/g, "");
        await client.startTLS({ ca, host, ...(isIP(host) ? {} : { servername: host }) })
          .catch((error) => Promise.reject(unavailable("StartTLS", error)));
      }
      await client.bind(bindDn, password)
        .catch((error) => Promise.reject(unavailable("connect/bind", error)));
    };
    try {
      await bounded(setup(), signal, "connect", () => destroy(client));
    } catch (error) {
      await destroy(client);
      throw error;
    }
    this.stats.connects++;
    return client;
  }

  #release(client: Client, healthy: boolean): void {
    if (healthy && !this.#closed && client.isBound) this.#idle.push(client);
    else this.#discard(client);
    this.#wakeOne();
  }

  #discard(client: Client): void {
    this.#open--;
    this.stats.discards++;
    destroy(client);
  }

  #wakeOne(): void {
    const waiter = this.#waiters.values().next().value;
    if (waiter !== undefined) {
      this.#waiters.delete(waiter);
      waiter();
    }
  }

  #waitForRelease(signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const wake = () => {
        signal.removeEventListener("abort", abort);
        resolve();
      };
      const abort = () => {
        this.#waiters.delete(wake);
        reject(abortError(signal, "connect"));
      };
      this.#waiters.add(wake);
      signal.addEventListener("abort", abort, { once: true });
    });
  }

  /** Closes every idle connection; connections in use close when released. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.#closed = true;
    for (const wake of [...this.#waiters]) wake();
    this.#waiters.clear();
    const idle = this.#idle.splice(0);
    this.#open -= idle.length;
    this.stats.discards += idle.length;
    await Promise.all(idle.map(destroy));
  }
}
