/**
 * The shared token backend: PostgreSQL through `npm:postgres`. Several gateway
 * processes use one database. The schema is created or migrated at startup in
 * one transaction under an advisory lock (so replicas starting together do not
 * race), and recorded in `authotron_schema`. When the database is unreachable
 * at startup the gateway still starts; the migration is retried on first use.
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

/**
 * Connects to `uri` and migrates the schema. Refuses (throws) only for a
 * schema newer than this gateway; an unreachable database is reported to
 * `onDeferred` and retried on first use.
 */
export async function openPostgresStore(
  uri: string,
  onDeferred: (error: StoreUnavailableError) => void,
): Promise<TokenStore> {
  const sql = postgres(uri, {
    max: 10,
    connect_timeout: 5,
    idle_timeout: 60,
    onnotice: () => {},
    connection: { application_name: "authotron", statement_timeout: 10_000 },
  });
  const store = new PostgresTokenStore(sql);
  try {
    await store.ready();
  } catch (error) {
    if (error instanceof SchemaVersionError) {
      await sql.end({ timeout: 5 });
      throw error;
    }
    onDeferred(storeUnavailable("postgres", "migration", error));
  }
  return store;
}

class PostgresTokenStore implements TokenStore {
  readonly backend = "postgres";
  readonly #sql: postgres.Sql;
  #migrated: Promise<void> | undefined;

  constructor(sql: postgres.Sql) {
    this.#sql = sql;
  }

  /** Runs the migration once; a failed attempt is retried by the next call. */
  ready(): Promise<void> {
    this.#migrated ??= migrate(this.#sql).catch((error) => {
      this.#migrated = undefined;
      throw error;
    });
    return this.#migrated;
  }

  async #run<T>(what: string, fn: (sql: postgres.Sql) => Promise<T>): Promise<T> {
    try {
      await this.ready();
      return await fn(this.#sql);
    } catch (error) {
      throw storeUnavailable("postgres", what, error);
    }
  }

  create(r: TokenRecord): Promise<void> {
    return this.#run("create", async (sql) => {
      await sql.begin(async (tx) => {
        await tx`delete from authotron_tokens where owner_realm = ${r.owner.realm}
          and owner_username = ${r.owner.username} and expires_at < now()`;
        await tx`insert into authotron_tokens ${
          tx({
            id: r.id,
            token_hash: r.hash,
            prefix: r.prefix,
            owner_username: r.owner.username,
            owner_realm: r.owner.realm,
            user_snapshot: tx.json(r.user as unknown as postgres.JSONValue),
            name: r.name ?? null,
            created_at: new Date(r.createdAt),
            expires_at: new Date(r.expiresAt),
          })
        }`;
      });
    });
  }

  findByHash(hash: string): Promise<TokenRecord | undefined> {
    return this.#run("find", async (sql) => {
      const rows = await sql<Row[]>`select * from authotron_tokens where token_hash = ${hash}`;
      return rows[0] && toRecord(rows[0]);
    });
  }

  listByOwner(owner: TokenOwner): Promise<TokenRecord[]> {
    return this.#run("list", async (sql) => {
      const rows = await sql<Row[]>`select * from authotron_tokens
        where owner_realm = ${owner.realm} and owner_username = ${owner.username}
        order by created_at, id`;
      return rows.map(toRecord);
    });
  }

  countByOwner(owner: TokenOwner): Promise<number> {
    return this.#run("count", async (sql) => {
      const rows = await sql<{ n: number }[]>`select count(*)::int as n from authotron_tokens
        where owner_realm = ${owner.realm} and owner_username = ${owner.username}`;
      return rows[0]?.n ?? 0;
    });
  }

  deleteOwned(owner: TokenOwner, which: TokenSelector): Promise<boolean> {
    return this.#run("delete", async (sql) => {
      const match = "id" in which ? sql`id = ${which.id}` : sql`token_hash = ${which.hash}`;
      const rows = await sql`delete from authotron_tokens where ${match}
        and owner_realm = ${owner.realm} and owner_username = ${owner.username} returning id`;
      return rows.length > 0;
    });
  }

  touch(id: string, at: number): Promise<void> {
    return this.#run("touch", async (sql) => {
      await sql`update authotron_tokens set last_used_at = ${new Date(at)} where id = ${id}`;
    });
  }

  ping(): Promise<void> {
    return this.#run("ping", async (sql) => {
      await sql`select 1`;
    });
  }

  async close(): Promise<void> {
    await this.#sql.end({ timeout: 5 });
  }
}
