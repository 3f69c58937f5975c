/**
 * The behaviour every token backend must have, run against a real Deno KV
 * file and a real PostgreSQL server by the backend test files.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { ResolvedUser } from "../../lib/plugin.ts";
import { displayPrefix, generateToken, hashToken } from "../../lib/store/token_secret.ts";
import type { TokenOwner, TokenRecord, TokenStore } from "../../lib/store/token_store.ts";

/** A user snapshot for tests. */
export function user(username: string, realm: string, roles: string[] = []): ResolvedUser {
  return { version: 1, username, realm, roles, attributes: { team: "x" }, scopes: {} };
}

/** A fresh record for `owner`, created `ageMs` ago, valid for `ttlMs`. */
export async function record(
  owner: TokenOwner,
  options: { ttlMs?: number; name?: string } = {},
): Promise<{ token: string; record: TokenRecord }> {
  const token = generateToken();
  const now = Date.now();
  return {
    token,
    record: {
      id: crypto.randomUUID(),
      hash: await hashToken(token),
      prefix: displayPrefix(token),
      owner,
      user: user(owner.username, owner.realm, ["reader"]),
      ...(options.name === undefined ? {} : { name: options.name }),
      createdAt: now,
      expiresAt: now + (options.ttlMs ?? 3_600_000),
    },
  };
}

/** Exercises create, find, list, count, owner-only delete, touch and ping. */
export async function checkBackendContract(store: TokenStore): Promise<void> {
  const alice = { username: "alice", realm: "demo" };
  const aliceElsewhere = { username: "alice", realm: "other" };
  const bob = { username: "bob", realm: "demo" };
  await store.ping();
  assert.deepEqual(await store.listByOwner(alice), []);
  assert.equal(await store.countByOwner(alice), 0);

  const a1 = await record(alice, { name: "ci <script>\u00e9" });
  const a2 = await record(alice);
  const b1 = await record(bob);
  for (const r of [a1, a2, b1]) await store.create(r.record);
  await assert.rejects(store.create(a1.record), "a duplicate hash or id is refused");

  const found = await store.findByHash(a1.record.hash);
  assert.deepEqual(found, a1.record);
  assert.equal(await store.findByHash(await hashToken(generateToken())), undefined);

  // Two tokens created in the same millisecond have no defined order: compare as sets.
  assert.deepEqual(
    (await store.listByOwner(alice)).map((r) => r.id).sort(),
    [a1.record.id, a2.record.id].sort(),
  );
  assert.equal(await store.countByOwner(alice), 2);
  assert.deepEqual(await store.listByOwner(aliceElsewhere), [], "owners are username AND realm");

  // Nobody but the owner deletes: by id and by hash.
  assert.equal(await store.deleteOwned(bob, { id: a1.record.id }), false);
  assert.equal(await store.deleteOwned(bob, { hash: a1.record.hash }), false);
  assert.equal(await store.deleteOwned(aliceElsewhere, { id: a1.record.id }), false);
  assert.ok(await store.findByHash(a1.record.hash), "the token survives the attempts");

  await store.touch(a2.record.id, a2.record.createdAt + 5000);
  assert.equal((await store.findByHash(a2.record.hash))?.lastUsedAt, a2.record.createdAt + 5000);

  assert.equal(await store.deleteOwned(alice, { id: a1.record.id }), true);
  assert.equal(await store.findByHash(a1.record.hash), undefined);
  assert.equal(await store.deleteOwned(alice, { id: a1.record.id }), false);
  assert.equal(await store.deleteOwned(alice, { hash: a2.record.hash }), true);
  assert.deepEqual(await store.listByOwner(alice), []);
  await store.touch(a2.record.id, Date.now()); // a deleted token is not resurrected
  assert.equal(await store.findByHash(a2.record.hash), undefined);
  assert.deepEqual((await store.listByOwner(bob)).map((r) => r.id), [b1.record.id]);
}
