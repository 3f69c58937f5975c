import assert from "node:assert/strict";
import { Generations } from "../../lib/util/generations.ts";

Deno.test("Generations: a replaced generation is disposed after its last call, not before", async () => {
  const disposed: string[] = [];
  const gens = new Generations("a", (v) => (disposed.push(v), Promise.resolve()));
  let release!: () => void;
  const blocked = new Promise<void>((r) => release = r);
  const call = gens.use(async (v) => {
    await blocked;
    return v;
  });
  gens.replace("b");
  assert.equal(gens.current, "b");
  assert.equal(await gens.use((v) => v), "b");
  await Promise.resolve();
  assert.deepEqual(disposed, [], "a is still in use");
  release();
  assert.equal(await call, "a");
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(disposed, ["a"]);
  gens.replace("c"); // b is idle: disposed at once
  await gens.dispose();
  assert.deepEqual(disposed, ["a", "b", "c"]);
  await gens.dispose();
  assert.deepEqual(disposed, ["a", "b", "c"], "never twice");
});

Deno.test("Generations: a call that throws still releases its generation", async () => {
  const disposed: number[] = [];
  const gens = new Generations(1, (v) => (disposed.push(v), Promise.resolve()));
  assert.throws(() =>
    gens.use(() => {
      throw new Error("boom");
    })
  );
  await assert.rejects(() => gens.use(() => Promise.reject(new Error("late boom"))));
  gens.replace(2);
  await gens.dispose();
  assert.deepEqual(disposed, [1, 2]);
});
