/**
 * The shared token backend: PostgreSQL through `npm:postgres`. Several gateway
 * processes use one database. The schema is created or migrated at startup in
 * one transaction under an advisory lock (so replicas starting together do not
 * race), and recorded in `authotron_schema`. When the database is unreachable
 * at startup the gateway still starts; the migration is retried on first use.
 *
 * A call abandoned at its deadline is never applied later. `npm:postgres`
 * keeps a query queued while it reconnects (with a back-off that grows to
 * 20 s) and runs it when the database is back; its `cancel()` of such a query
 * strands the pooled connection. So when a call's deadline passes, the whole
 * pool is replaced: the old one is destroyed at once, which rejects every
 * query it still held, and the next call opens fresh connections. Every write
 * is one statement, and `statement_timeout` equals the call timeout, so the
 * server itself abandons a statement that runs past the deadline.
 *
 * @module
 */

import postgres from "postgres";
import type { ResolvedUser } from "../plugin.ts";
import {
  storeUnavailable,
  type StoreUnavailableError,
  type TokenOwner,
  type TokenRecord,
  type TokenSelector,
  type TokenStore,
} from "./token_store.ts";

/** Migrations in order; `authotron_schema.version` counts those applied. */
const MIGRATIONS = [
  `create table authotron_tokens (
     id uuid primary key,
     token_hash text not null unique,
     prefix text not null,
     owner_username text not null,
     owner_realm text not null,
     user_snapshot jsonb not null,
     name text,
     created_at timestamptz not null,
     expires_at timestamptz not null,
     last_used_at timestamptz
   );
   create index authotron_tokens_owner on authotron_tokens (owner_realm, owner_username);`,
];
/** The schema version this gateway writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;
const LOCK_ID = 0x4a07_0001;
/** Lower bound of the server-side `statement_timeout` (the migration runs under it too). */
const MIN_STATEMENT_TIMEOUT_MS = 1000;

/** The database schema is newer than this gateway understands. */
export class SchemaVersionError extends Error {
  /** Stable code. */
  readonly code = "ERR_STORE_SCHEMA";
  /** Creates the error for the version found. */
  constructor(found: number) {
    super(
      `database schema version ${found} is newer than this gateway supports (${SCHEMA_VERSION})`,
    );
    this.name = "SchemaVersionError";
  }
}

interface Row {
  id: string;
  token_hash: string;
  prefix: string;
  owner_username: string;
  owner_realm: string;
  user_snapshot: ResolvedUser;
  name: string | null;
  created_at: Date;
  expires_at: Date;
  last_used_at: Date | null;
}

function toRecord(row: Row): TokenRecord {
  return {
    id: row.id,
    hash: row.token_hash,
    prefix: row.prefix,
    owner: { username: row.owner_username, realm: row.owner_realm },
    user: row.user_snapshot,
    ...(row.name === null ? {} : { name: row.name }),
    createdAt: row.created_at.getTime(),
    expiresAt: row.expires_at.getTime(),
    ...(row.last_used_at === null ? {} : { lastUsedAt: row.last_used_at.getTime() }),
  };
}

async function migrate(sql: postgres.Sql): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${LOCK_ID})`;
    await tx`create table if not exists authotron_schema (
      only_row boolean primary key default true check (only_row),
      version integer not null)`;
    const rows = await tx<{ version: number }[]>`select version from authotron_schema`;
    const found = rows[0]?.version ?? 0;
    if (found > SCHEMA_VERSION) throw new SchemaVersionError(found);
    for (const step of MIGRATIONS.slice(found)) await tx.unsafe(step);
    await tx`insert into authotron_schema (version) values (${SCHEMA_VERSION})
      on conflict (only_row) do update set version = excluded.version`;
  });
}

/** Settings of {@link openPostgresStore}. */
export interface PostgresStoreOptions {
  /** The bound of one store call (`auth.timeout_in_ms`); also the server's `statement_timeout`. */
  readonly timeoutMs: number;
  /** Told when the database is unreachable at startup (the migration is retried on first use). */
  readonly onDeferred: (error: StoreUnavailableError) => void;
  /**
   * A fixed delay in seconds before the driver retries a failed connection;
   * default: the driver's own back-off, growing from 15 ms to 20 s with
   * consecutive failures. Tests set it to make an outage's timing predictable.
   */
  readonly reconnectDelayS?: number;
}

/**
 * Connects to `uri` and migrates the schema. Refuses (throws) only for a
 * schema newer than this gateway; an unreachable database is reported to
 * `onDeferred` and retried on first use.
 */
export async function openPostgresStore(
  uri: string,
  options: PostgresStoreOptions,
): Promise<TokenStore> {
  const { timeoutMs, onDeferred, reconnectDelayS } = options;
  const connect = () =>
    postgres(uri, {
      max: 10,
      connect_timeout: 5,
      idle_timeout: 60,
      onnotice: () => {},
      ...(reconnectDelayS === undefined ? {} : { backoff: () => reconnectDelayS }),
      connection: {
        application_name: "authotron",
        statement_timeout: Math.max(MIN_STATEMENT_TIMEOUT_MS, timeoutMs),
      },
    });
  const store = new PostgresTokenStore(connect);
  try {
    await store.ready();
  } catch (error) {
    if (error instanceof SchemaVersionError) {
      await store.close();
      throw error;
    }
    onDeferred(storeUnavailable("postgres", "migration", error));
  }
  return store;
}

class PostgresTokenStore implements TokenStore {
  readonly backend = "postgres";
  readonly #connect: () => postgres.Sql;
  readonly #retired = new Set<Promise<void>>();
  #sql: postgres.Sql;
  #migrated: Promise<void> | undefined;

  constructor(connect: () => postgres.Sql) {
    this.#connect = connect;
    this.#sql = connect();
  }

  /** Destroys `stale` (rejecting everything it holds) and opens a new pool for later calls. */
  #replace(stale: postgres.Sql): void {
    if (this.#sql !== stale) return;
    this.#sql = this.#connect();
    const ending = stale.end({ timeout: 0 }).catch(() => {}).finally(() => {
      this.#retired.delete(ending);
    });
    this.#retired.add(ending);
  }

  /** Runs the migration once; a failed attempt is retried by the next call. */
  ready(): Promise<void> {
    this.#migrated ??= migrate(this.#sql).catch((error) => {
      this.#migrated = undefined;
      throw error;
    });
    return this.#migrated;
  }

  /** Runs `fn` on the current pool; if `signal` aborts first, that pool is replaced. */
  async #run<T>(
    what: string,
    signal: AbortSignal | undefined,
    fn: (sql: postgres.Sql) => Promise<T>,
  ): Promise<T> {
    const sql = this.#sql;
    const abandon = () => this.#replace(sql);
    if (signal?.aborted) throw storeUnavailable("postgres", what, signal.reason);
    signal?.addEventListener("abort", abandon, { once: true });
    try {
      await this.ready();
      return await fn(sql);
    } catch (error) {
      throw storeUnavailable("postgres", what, error);
    } finally {
      signal?.removeEventListener("abort", abandon);
    }
  }

  create(r: TokenRecord, signal?: AbortSignal): Promise<void> {
    // One statement (no transaction to strand): drop the owner's expired tokens, insert the new one.
    return this.#run("create", signal, async (sql) => {
      await sql`with expired as (
          delete from authotron_tokens where owner_realm = ${r.owner.realm}
            and owner_username = ${r.owner.username} and expires_at < now())
        insert into authotron_tokens ${
        sql({
          id: r.id,
          token_hash: r.hash,
          prefix: r.prefix,
          owner_username: r.owner.username,
          owner_realm: r.owner.realm,
          user_snapshot: sql.json(r.user as unknown as postgres.JSONValue),
          name: r.name ?? null,
          created_at: new Date(r.createdAt),
          expires_at: new Date(r.expiresAt),
        })
      }`;
    });
  }

  findByHash(hash: string, signal?: AbortSignal): Promise<TokenRecord | undefined> {
    return this.#run("find", signal, async (sql) => {
      const rows = await sql<Row[]>`select * from authotron_tokens where token_hash = ${hash}`;
      return rows[0] && toRecord(rows[0]);
    });
  }

  listByOwner(owner: TokenOwner, signal?: AbortSignal): Promise<TokenRecord[]> {
    return this.#run("list", signal, async (sql) => {
      const rows = await sql<Row[]>`select * from authotron_tokens
        where owner_realm = ${owner.realm} and owner_username = ${owner.username}
        order by created_at, id`;
      return rows.map(toRecord);
    });
  }

  countByOwner(owner: TokenOwner, signal?: AbortSignal): Promise<number> {
    return this.#run("count", signal, async (sql) => {
      const rows = await sql<{ n: number }[]>`select count(*)::int as n from authotron_tokens
        where owner_realm = ${owner.realm} and owner_username = ${owner.username}`;
      return rows[0]?.n ?? 0;
    });
  }

  deleteOwned(owner: TokenOwner, which: TokenSelector, signal?: AbortSignal): Promise<boolean> {
    return this.#run("delete", signal, async (sql) => {
      const match = "id" in which ? sql`id = ${which.id}` : sql`token_hash = ${which.hash}`;
      const rows = await sql`delete from authotron_tokens where ${match}
        and owner_realm = ${owner.realm} and owner_username = ${owner.username} returning id`;
      return rows.length > 0;
    });
  }

  touch(id: string, at: number, signal?: AbortSignal): Promise<void> {
    return this.#run("touch", signal, async (sql) => {
      await sql`update authotron_tokens set last_used_at = ${new Date(at)} where id = ${id}`;
    });
  }

  ping(signal?: AbortSignal): Promise<void> {
    return this.#run("ping", signal, async (sql) => {
      await sql`select 1`;
    });
  }

  async close(): Promise<void> {
    await Promise.all([this.#sql.end({ timeout: 5 }), ...this.#retired]);
  }
}
