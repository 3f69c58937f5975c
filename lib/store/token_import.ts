/**
 * Writes tokens read from auth-o-tron's MongoDB export
 * (`lib/store/mongo_export.ts`) into a token backend: hashed like every
 * other token, one atomic write per token, and skipped when a token with the
 * same secret is already stored, so a rerun imports nothing twice.
 *
 * @module
 */

import type { LegacyToken } from "./mongo_export.ts";
import { hashToken } from "./token_secret.ts";
import type { TokenRecord, TokenStore } from "./token_store.ts";

/** Label of every imported token in `GET /tokens`. */
export const IMPORTED_TOKEN_NAME = "imported from auth-o-tron";
/** Characters of a legacy token shown in listings (16 of its 122 random bits). */
const LEGACY_PREFIX_LENGTH = 4;

/** What an import did. */
export interface ImportCounts {
  /** Tokens written now. */
  readonly imported: number;
  /** Tokens already in the store (an earlier run, or a duplicate in the export). */
  readonly alreadyPresent: number;
}

/** Options of {@link importLegacyTokens}. */
export interface ImportOptions {
  /** Lifetime of each imported token from `now`, in milliseconds (the original's never expire). */
  readonly ttlMs: number;
  /** Epoch milliseconds (tests inject one). */
  readonly now?: number;
}

/** Stores each token whose hash is not stored yet. */
export async function importLegacyTokens(
  store: TokenStore,
  tokens: readonly LegacyToken[],
  options: ImportOptions,
): Promise<ImportCounts> {
  const now = options.now ?? Date.now();
  let imported = 0;
  let alreadyPresent = 0;
  for (const legacy of tokens) {
    const hash = await hashToken(legacy.token);
    if (await store.findByHash(hash) !== undefined) {
      alreadyPresent++;
      continue;
    }
    const { username, realm } = legacy.user;
    const record: TokenRecord = {
      id: crypto.randomUUID(),
      hash,
      prefix: legacy.token.slice(0, LEGACY_PREFIX_LENGTH),
      owner: { username, realm },
      user: legacy.user,
      name: IMPORTED_TOKEN_NAME,
      createdAt: Math.min(legacy.createdAt ?? now, now),
      expiresAt: now + options.ttlMs,
    };
    await store.create(record);
    imported++;
  }
  return { imported, alreadyPresent };
}
