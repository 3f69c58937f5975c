import assert from "node:assert/strict";
import { LruMap } from "../../packages/plugin/_host/lru_map.ts";

function keysOf(map: LruMap<string, number>, candidates: string[]): string[] {
  // The order is observable through eviction: evict one at a time.
  const order: string[] = [];
  while (map.size > 0) {
    const before = candidates.filter((k) => map.get(k) !== undefined);
    map.evictBeyond(map.size - 1);
    order.push(...before.filter((k) => map.get(k) === undefined));
  }
  return order;
}

Deno.test("LruMap.set() moves a key to the newest end; evictBeyond() drops the oldest", () => {
  const map = new LruMap<string, number>();
  for (const [i, key] of ["a", "b", "c"].entries()) map.set(key, i);
  map.set("a", 10); // a is now the newest
  map.set("a", 11); // already the newest: updated in place
  assert.equal(map.get("a"), 11);
  assert.equal(map.size, 3);
  assert.deepEqual(keysOf(map, ["a", "b", "c"]), ["b", "c", "a"]);
});

Deno.test("LruMap keeps its order across deletes of the newest key and clear()", () => {
  const map = new LruMap<string, number>();
  map.set("a", 1);
  map.set("b", 2);
  map.delete("b"); // the newest key is gone
  map.set("c", 3);
  map.set("b", 4); // re-inserted: newest again
  map.set("a", 5);
  assert.deepEqual(keysOf(map, ["a", "b", "c"]), ["c", "b", "a"]);
  map.set("x", 1);
  map.clear();
  assert.equal(map.size, 0);
  map.set("x", 2);
  map.set("y", 3);
  assert.equal(map.evictBeyond(1), 1);
  assert.equal(map.get("x"), undefined);
  assert.equal(map.get("y"), 3);
});
