import assert from "node:assert/strict";
import { Generations } from "../../lib/util/generations.ts";

Deno.test("Generations: a replaced generation is disposed after its last lease, not before", async () => {
  const disposed: string[] = [];
  const gens = new Generations("a", (v) => (disposed.push(v), Promise.resolve()));
  const first = gens.acquire();
  assert.equal(first.value, "a");
  gens.replace("b");
  assert.equal(gens.current, "b");
  assert.equal(gens.active, 0, "b has no lease yet");
  const second = gens.acquire();
  assert.equal(second.value, "b");
  second.release();
  await Promise.resolve();
  assert.deepEqual(disposed, [], "a is still held");
  first.release();
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(disposed, ["a"]);
  gens.replace("c"); // b is idle: disposed at once
  await gens.dispose();
  assert.deepEqual(disposed, ["a", "b", "c"]);
  await gens.dispose();
  assert.deepEqual(disposed, ["a", "b", "c"], "never twice");
});

Deno.test("Generations: a dispose that fails does not stop the others", async () => {
  const disposed: number[] = [];
  const gens = new Generations(1, (v) => {
    disposed.push(v);
    return v === 1 ? Promise.reject(new Error("close failed")) : Promise.resolve();
  });
  gens.replace(2);
  await gens.dispose();
  assert.deepEqual(disposed, [1, 2]);
});
