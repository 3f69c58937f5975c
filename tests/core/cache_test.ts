import assert from "node:assert/strict";
import { BoundedCache } from "../../packages/plugin/_host/cache.ts";

Deno.test("BoundedCache evicts the least recently used entry beyond maxEntries", () => {
  const cache = new BoundedCache<string, number>({ maxEntries: 2, ttlMs: 1000 });
  cache.set("a", 1);
  cache.set("b", 2);
  cache.get("a");
  cache.set("c", 3);
  assert.equal(cache.get("b"), undefined);
  assert.equal(cache.get("a"), 1);
  assert.equal(cache.size, 2);
  assert.equal(cache.stats.evictions, 1);
});

Deno.test("BoundedCache expires entries after their TTL", () => {
  let now = 0;
  const cache = new BoundedCache<string, string>({ maxEntries: 10, ttlMs: 100, now: () => now });
  cache.set("k", "v");
  cache.set("short", "v", 10);
  now = 50;
  assert.equal(cache.get("k"), "v");
  assert.equal(cache.get("short"), undefined);
  now = 100;
  assert.equal(cache.get("k"), undefined);
});

Deno.test("BoundedCache.getOrLoad() makes one load for concurrent misses", async () => {
  const cache = new BoundedCache<string, number>({ maxEntries: 10, ttlMs: 1000 });
  let loads = 0;
  const load = async () => {
    loads++;
    await new Promise((r) => setTimeout(r, 10));
    return 42;
  };
  const results = await Promise.all(Array.from({ length: 100 }, () => cache.getOrLoad("k", load)));
  assert.ok(results.every((r) => r === 42));
  assert.equal(loads, 1);
  assert.equal(cache.stats.misses, 1);
  assert.equal(cache.stats.hits, 99);
});

Deno.test("BoundedCache.getOrLoad() does not cache failures and honours ttlFor", async () => {
  const cache = new BoundedCache<string, boolean>({ maxEntries: 10, ttlMs: 1000 });
  await assert.rejects(cache.getOrLoad("k", () => Promise.reject(new Error("down"))));
  assert.equal(await cache.getOrLoad("k", () => Promise.resolve(false), () => 0), false);
  assert.equal(cache.get("k"), undefined, "a zero TTL stores nothing");
  assert.equal(await cache.getOrLoad("k", () => Promise.resolve(true)), true);
  assert.equal(cache.get("k"), true);
});
