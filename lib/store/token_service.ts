/**
 * Token operations on top of a backend: issue, authenticate, list and
 * revoke, each bounded by a timeout and counted in
 * `authotron_token_store_operations_total`. There is no positive cache: every
 * authentication reads the store, so an expired or deleted token fails at
 * once on every replica.
 *
 * A call that fails or passes its deadline marks the store unavailable (see
 * `store_health.ts`); then calls fail at once with
 * {@link StoreUnavailableError} until a background probe gets an answer.
 * The deadline's signal reaches the backend, which must make sure a call
 * abandoned at its deadline is never applied later.
 *
 * Folder `lib/store/`: long-lived opaque tokens and their backends (Deno KV,
 * PostgreSQL). Imports `lib/util/` through `lib/auth/`, never `lib/http/`.
 *
 * @module
 */

import { runBounded } from "../util/bounded_call.ts";
import { errorMessage } from "../util/errors.ts";
import type { Logger } from "../observability/log.ts";
import type { Counter, CounterSeries } from "../observability/metrics_families.ts";
import type { ResolvedUser } from "../plugin.ts";
import { StoreHealth } from "./store_health.ts";
import {
  displayPrefix,
  generateToken,
  hashToken,
  isLegacyTokenShaped,
  isTokenShaped,
} from "./token_secret.ts";
import {
  StoreUnavailableError,
  type TokenOwner,
  type TokenRecord,
  type TokenSelector,
  type TokenStore,
} from "./token_store.ts";

/** Tokens one user may hold at a time. */
export const MAX_TOKENS_PER_OWNER = 100;
/** `last_used_at` is written at most this often per token. */
const TOUCH_INTERVAL_MS = 60_000;
const MAX_TOUCH_ENTRIES = 10_000;
const OPERATIONS = ["create", "find", "list", "count", "delete", "touch", "ping"] as const;
type Operation = typeof OPERATIONS[number];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The owner already holds {@link MAX_TOKENS_PER_OWNER} tokens. */
export class TokenQuotaError extends Error {
  /** Stable code. */
  readonly code = "ERR_TOKEN_QUOTA";
  /** Creates the error. */
  constructor() {
    super(`at most ${MAX_TOKENS_PER_OWNER} tokens per user`);
    this.name = "TokenQuotaError";
  }
}

/** A token just issued: the only time its secret is seen. */
export interface IssuedToken {
  /** The secret to send as `Bearer <token>`. */
  readonly token: string;
  /** The stored record. */
  readonly record: TokenRecord;
}

/** Settings of a {@link TokenService}. */
export interface TokenServiceOptions {
  /** The backend. */
  readonly store: TokenStore;
  /** Bound of every store call, in milliseconds. */
  readonly timeoutMs: number;
  /** The `store` logger. */
  readonly log: Logger;
}

/** The owner of tokens created by `user`. */
export function ownerOf(user: ResolvedUser): TokenOwner {
  return { username: user.username, realm: user.realm };
}

/**
 * `user` without an `exp` attribute. The attribute caps the downstream JWT
 * (spec 7.2) by the credential the user signed in with; a long-lived token
 * has its own expiry, checked at every use, so the snapshot must not carry
 * the sign-in session's, which would make every later use answer 200 with an
 * already-expired JWT (#22 F5).
 */
export function withoutInheritedExpiry(user: ResolvedUser): ResolvedUser {
  if (user.attributes.exp === undefined) return user;
  const { exp: _inherited, ...attributes } = user.attributes;
  return { ...user, attributes };
}

/** Issues, checks, lists and revokes tokens. */
export class TokenService {
  readonly #store: TokenStore;
  readonly #timeoutMs: number;
  readonly #log: Logger;
  readonly #touched = new Map<string, number>();
  readonly #pending = new Set<Promise<void>>();
  #series: Map<string, CounterSeries> | undefined;
  /** Whether the store answers; token operations fail fast while it does not. */
  readonly health: StoreHealth;

  /** Creates the service. */
  constructor(options: TokenServiceOptions) {
    this.#store = options.store;
    this.#timeoutMs = options.timeoutMs;
    this.#log = options.log;
    this.health = new StoreHealth({
      backend: options.store.backend,
      log: options.log,
      probe: () => this.ping(),
    });
  }

  /** The backend's name. */
  get backend(): string {
    return this.#store.backend;
  }

  /** Counts operations in `counter` (labels `operation`, `result`), pre-initialising every series. */
  instrument(counter: Counter): void {
    this.#series = new Map();
    for (const operation of OPERATIONS) {
      for (const result of ["success", "error"]) {
        this.#series.set(`${operation} ${result}`, counter.series({ operation, result }));
      }
    }
  }

  /**
   * Runs one store call under the timeout, counting it and updating
   * {@link health}; failures throw {@link StoreUnavailableError}. While the
   * store is known to be unavailable the call is not made at all.
   */
  async #call<T>(operation: Operation, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (!this.health.available) {
      this.#series?.get(`${operation} error`)?.inc();
      throw new StoreUnavailableError(
        `${this.#store.backend} ${operation}: store unavailable (failing fast until it answers)`,
      );
    }
    try {
      const value = await this.#bounded(operation, fn);
      this.#series?.get(`${operation} success`)?.inc();
      this.health.succeeded();
      return value;
    } catch (error) {
      this.#series?.get(`${operation} error`)?.inc();
      this.health.failed(error);
      throw error;
    }
  }

  /** Runs `fn` under the timeout; its signal aborts at the deadline. */
  async #bounded<T>(operation: Operation, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const outcome = await runBounded(this.#timeoutMs, undefined, fn);
    if (outcome.kind === "value") return outcome.value;
    if (outcome.kind === "error" && outcome.error instanceof StoreUnavailableError) {
      throw outcome.error;
    }
    const reason = outcome.kind === "error"
      ? String((outcome.error as Error)?.message ?? outcome.error)
      : `timed out after ${this.#timeoutMs} ms`;
    throw new StoreUnavailableError(`${this.#store.backend} ${operation}: ${reason}`);
  }

  /** Issues a token for `user`, valid for `ttlSeconds`. */
  async create(user: ResolvedUser, ttlSeconds: number, name?: string): Promise<IssuedToken> {
    const owner = ownerOf(user);
    const held = await this.#call("count", (signal) => this.#store.countByOwner(owner, signal));
    if (held >= MAX_TOKENS_PER_OWNER) throw new TokenQuotaError();
    const token = generateToken();
    const now = Date.now();
    const record: TokenRecord = {
      id: crypto.randomUUID(),
      hash: await hashToken(token),
      prefix: displayPrefix(token),
      owner,
      user: withoutInheritedExpiry(user),
      ...(name === undefined ? {} : { name }),
      createdAt: now,
      expiresAt: now + ttlSeconds * 1000,
    };
    await this.#call("create", (signal) => this.#store.create(record, signal));
    this.#log.info("store.token.created", "token created", {
      token_id: record.id,
      username: owner.username,
      realm: owner.realm,
      expires_at: new Date(record.expiresAt).toISOString(),
    });
    return { token, record };
  }

  /**
   * The stored user for a `Bearer` credential, or `undefined` when it is not
   * one of ours (an `aot_` token, or a UUID imported from auth-o-tron),
   * unknown, expired, or owned outside `realmHint` (case-insensitive).
   * Throws {@link StoreUnavailableError} when the store fails.
   */
  async authenticate(credential: string, realmHint?: string): Promise<ResolvedUser | undefined> {
    if (!isTokenShaped(credential) && !isLegacyTokenShaped(credential)) return undefined;
    const hash = await hashToken(credential);
    const record = await this.#call("find", (signal) => this.#store.findByHash(hash, signal));
    const now = Date.now();
    if (record === undefined || record.expiresAt <= now) return undefined;
    if (realmHint !== undefined && record.owner.realm.toLowerCase() !== realmHint.toLowerCase()) {
      return undefined;
    }
    this.#touch(record, now);
    return withoutInheritedExpiry(record.user); // records stored before the snapshot was cleaned
  }

  /** The owner's tokens that have not expired, oldest first. */
  async list(owner: TokenOwner): Promise<TokenRecord[]> {
    const now = Date.now();
    const records = await this.#call("list", (signal) => this.#store.listByOwner(owner, signal));
    return records.filter((r) => r.expiresAt > now);
  }

  /**
   * Deletes a token by its secret or its id, only for its owner; true when
   * deleted. A UUID is an id, else the secret of a token imported from auth-o-tron.
   */
  async delete(owner: TokenOwner, tokenOrId: string): Promise<boolean> {
    let which: TokenSelector;
    if (isTokenShaped(tokenOrId)) which = { hash: await hashToken(tokenOrId) };
    else if (UUID.test(tokenOrId)) which = { id: tokenOrId.toLowerCase() };
    else return false;
    let deleted = await this.#call(
      "delete",
      (signal) => this.#store.deleteOwned(owner, which, signal),
    );
    if (!deleted && isLegacyTokenShaped(tokenOrId)) {
      which = { hash: await hashToken(tokenOrId) };
      deleted = await this.#call(
        "delete",
        (signal) => this.#store.deleteOwned(owner, which, signal),
      );
    }
    if (deleted) {
      this.#log.info("store.token.deleted", "token deleted", {
        ...("id" in which ? { token_id: which.id } : {}),
        username: owner.username,
        realm: owner.realm,
      });
    }
    return deleted;
  }

  /** Resolves when the store answers (made even while it is known to be unavailable). */
  async ping(): Promise<void> {
    try {
      await this.#bounded("ping", (signal) => this.#store.ping(signal));
    } catch (error) {
      this.#series?.get("ping error")?.inc();
      this.health.failed(error);
      throw error;
    }
    this.#series?.get("ping success")?.inc();
    this.health.succeeded();
  }

  /** Records a use in the background, at most once a minute per token. */
  #touch(record: TokenRecord, now: number): void {
    const last = Math.max(record.lastUsedAt ?? 0, this.#touched.get(record.id) ?? 0);
    if (now - last < TOUCH_INTERVAL_MS) return;
    if (this.#touched.size >= MAX_TOUCH_ENTRIES) this.#touched.clear();
    this.#touched.set(record.id, now);
    const write = this.#call("touch", (signal) => this.#store.touch(record.id, now, signal)).catch(
      (error) => {
        this.#log.debug("store.token.touch_failed", "could not record token use", {
          token_id: record.id,
          error: errorMessage(error),
        });
      },
    ).finally(() => this.#pending.delete(write));
    this.#pending.add(write);
  }

  /** Waits for background writes, then closes the backend. */
  async close(): Promise<void> {
    await this.health.close();
    await Promise.allSettled([...this.#pending]);
    await this.#store.close();
  }
}
