/**
 * The token-store contract shared by the Deno KV and PostgreSQL backends, and
 * the record it holds. Backends never see a token secret: only its SHA-256.
 *
 * @module
 */

import { errorMessage } from "../util/errors.ts";
import type { ResolvedUser } from "../plugin.ts";

/** Who owns a token: the user it was created for, matched exactly. */
export interface TokenOwner {
  /** The owner's username. */
  readonly username: string;
  /** The owner's realm. */
  readonly realm: string;
}

/** One stored token. Times are epoch milliseconds. */
export interface TokenRecord {
  /** Random UUID, unrelated to the secret; used to list and delete. */
  readonly id: string;
  /** SHA-256 (hex) of the secret. */
  readonly hash: string;
  /** The first characters of the secret, for listings (`aot_` + 8). */
  readonly prefix: string;
  /** The owner. */
  readonly owner: TokenOwner;
  /** The authenticated, augmented user at creation; returned on authentication. */
  readonly user: ResolvedUser;
  /** Optional label chosen by the owner. */
  readonly name?: string;
  /** When it was created. */
  readonly createdAt: number;
  /** When it stops working. */
  readonly expiresAt: number;
  /** When it last authenticated a request (updated at most once a minute). */
  readonly lastUsedAt?: number;
}

/** Which token to delete: by id, or by the hash of its secret. */
export type TokenSelector = { readonly id: string } | { readonly hash: string };

/** Thrown by a backend that cannot reach or use its storage. */
export class StoreUnavailableError extends Error {
  /** Stable code. */
  readonly code = "ERR_STORE_UNAVAILABLE";
  /** Creates the error; the message must not contain a secret. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "StoreUnavailableError";
  }
}

/**
 * `error` as a {@link StoreUnavailableError} saying `<backend> <what> failed`;
 * one already of that type is returned as is.
 */
export function storeUnavailable(
  backend: string,
  what: string,
  error: unknown,
): StoreUnavailableError {
  if (error instanceof StoreUnavailableError) return error;
  return new StoreUnavailableError(`${backend} ${what} failed: ${errorMessage(error)}`, {
    cause: error,
  });
}

/**
 * A token backend. Every method throws {@link StoreUnavailableError} when the
 * storage fails. `signal` aborts at the caller's deadline: a backend whose
 * calls can wait (a network database) must then make sure the call is never
 * applied afterwards, because the caller has already answered 503.
 */
export interface TokenStore {
  /** `deno-kv` or `postgres`. */
  readonly backend: string;
  /** Stores a new token; durable once this resolves. */
  create(record: TokenRecord, signal?: AbortSignal): Promise<void>;
  /** The token with this secret hash (expired ones included; the caller checks). */
  findByHash(hash: string, signal?: AbortSignal): Promise<TokenRecord | undefined>;
  /** The owner's tokens, oldest first (expired ones included). */
  listByOwner(owner: TokenOwner, signal?: AbortSignal): Promise<TokenRecord[]>;
  /** How many tokens the owner holds (expired ones may be counted). */
  countByOwner(owner: TokenOwner, signal?: AbortSignal): Promise<number>;
  /** Deletes the token only if `owner` owns it; true when one was deleted. */
  deleteOwned(owner: TokenOwner, which: TokenSelector, signal?: AbortSignal): Promise<boolean>;
  /** Records a use; a no-op when the token is gone. */
  touch(id: string, at: number, signal?: AbortSignal): Promise<void>;
  /** Resolves when the storage answers. */
  ping(signal?: AbortSignal): Promise<void>;
  /** Waits for pending writes and releases the storage. */
  close(): Promise<void>;
}

/** True when two owners are the same user (exact username and realm). */
export function sameOwner(a: TokenOwner, b: TokenOwner): boolean {
  return a.username === b.username && a.realm === b.realm;
}
