/**
 * The embedded token backend: Deno KV in a local file (SQLite underneath, so
 * a committed write survives a crash). Keys:
 *
 * - `["aot_token", hash]` → the record (one read per authentication)
 * - `["aot_token_id", id]` → hash
 * - `["aot_token_owner", ownerKey, id]` → hash (the owner's secondary index)
 *
 * Every write is one atomic operation; KV's `expireIn` removes expired keys
 * eventually, and readers check `expiresAt` themselves.
 *
 * @module
 */

import {
  sameOwner,
  storeUnavailable,
  StoreUnavailableError,
  type TokenOwner,
  type TokenRecord,
  type TokenSelector,
  type TokenStore,
} from "./token_store.ts";

const BY_HASH = "aot_token";
const BY_ID = "aot_token_id";
const BY_OWNER = "aot_token_owner";
/** KV's `getMany` limit. */
const GET_MANY = 10;
/** Expired keys are kept this long, then KV removes them. */
const EXPIRY_GRACE_MS = 60_000;

/** A stable, bounded-length index key for an owner. */
async function ownerKey(owner: TokenOwner): Promise<string> {
  const bytes = new TextEncoder().encode(JSON.stringify([owner.realm, owner.username]));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

function expireIn(record: TokenRecord): number {
  return Math.max(1, record.expiresAt - Date.now() + EXPIRY_GRACE_MS);
}

/** Runs a KV call; any failure becomes a {@link StoreUnavailableError}. */
async function guard<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw storeUnavailable("deno-kv", what, error);
  }
}

/** Opens (creating its directory) the KV file at `path`. */
export async function openKvStore(path: string): Promise<TokenStore> {
  const slash = path.lastIndexOf("/");
  if (slash > 0) await Deno.mkdir(path.slice(0, slash), { recursive: true });
  const kv = await guard("open", () => Deno.openKv(path));
  return new KvTokenStore(kv);
}

class KvTokenStore implements TokenStore {
  readonly backend = "deno-kv";
  readonly #kv: Deno.Kv;
  #closed = false;

  constructor(kv: Deno.Kv) {
    this.#kv = kv;
  }

  create(record: TokenRecord): Promise<void> {
    return guard("create", async () => {
      const owner = await ownerKey(record.owner);
      const options = { expireIn: expireIn(record) };
      const result = await this.#kv.atomic()
        .check({ key: [BY_HASH, record.hash], versionstamp: null })
        .check({ key: [BY_ID, record.id], versionstamp: null })
        .set([BY_HASH, record.hash], record, options)
        .set([BY_ID, record.id], record.hash, options)
        .set([BY_OWNER, owner, record.id], record.hash, options)
        .commit();
      if (!result.ok) throw new StoreUnavailableError("deno-kv create: token id or hash collision");
    });
  }

  findByHash(hash: string): Promise<TokenRecord | undefined> {
    return guard("find", async () => {
      const entry = await this.#kv.get<TokenRecord>([BY_HASH, hash]);
      return entry.value ?? undefined;
    });
  }

  listByOwner(owner: TokenOwner): Promise<TokenRecord[]> {
    return guard("list", async () => {
      const hashes: string[] = [];
      const prefix = [BY_OWNER, await ownerKey(owner)];
      for await (const entry of this.#kv.list<string>({ prefix })) hashes.push(entry.value);
      const records: TokenRecord[] = [];
      for (let i = 0; i < hashes.length; i += GET_MANY) {
        const keys = hashes.slice(i, i + GET_MANY).map((h) => [BY_HASH, h]);
        for (const entry of await this.#kv.getMany<TokenRecord[]>(keys)) {
          if (entry.value && sameOwner(entry.value.owner, owner)) records.push(entry.value);
        }
      }
      return records.sort((a, b) => a.createdAt - b.createdAt);
    });
  }

  countByOwner(owner: TokenOwner): Promise<number> {
    return guard("count", async () => {
      let count = 0;
      const prefix = [BY_OWNER, await ownerKey(owner)];
      for await (const _ of this.#kv.list({ prefix })) count++;
      return count;
    });
  }

  deleteOwned(owner: TokenOwner, which: TokenSelector): Promise<boolean> {
    return guard("delete", async () => {
      let hash: string | undefined;
      if ("hash" in which) hash = which.hash;
      else hash = (await this.#kv.get<string>([BY_ID, which.id])).value ?? undefined;
      if (hash === undefined) return false;
      const entry = await this.#kv.get<TokenRecord>([BY_HASH, hash]);
      const record = entry.value;
      if (!record || !sameOwner(record.owner, owner)) return false;
      const result = await this.#kv.atomic()
        .check(entry)
        .delete([BY_HASH, hash])
        .delete([BY_ID, record.id])
        .delete([BY_OWNER, await ownerKey(record.owner), record.id])
        .commit();
      // Lost a race with another delete or touch: look again.
      return result.ok ? true : this.deleteOwned(owner, which);
    });
  }

  touch(id: string, at: number): Promise<void> {
    return guard("touch", async () => {
      const hash = (await this.#kv.get<string>([BY_ID, id])).value;
      if (hash === null) return;
      const entry = await this.#kv.get<TokenRecord>([BY_HASH, hash]);
      if (!entry.value) return;
      const record = { ...entry.value, lastUsedAt: at };
      // The check keeps a concurrent delete from being undone; a lost race is fine.
      await this.#kv.atomic().check(entry).set([BY_HASH, hash], record, {
        expireIn: expireIn(record),
      }).commit();
    });
  }

  ping(): Promise<void> {
    return guard("ping", async () => {
      await this.#kv.get([BY_ID, "ping"]);
    });
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#kv.close();
    }
    return Promise.resolve();
  }
}
