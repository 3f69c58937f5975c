import assert from "node:assert/strict";
import { runBounded } from "../../lib/util/bounded_call.ts";

Deno.test("runBounded() takes a synchronous value at once, even with timeout 0", async () => {
  assert.deepEqual(await runBounded(0, undefined, () => 42), { kind: "value", value: 42 });
});

Deno.test("runBounded() reports synchronous and asynchronous throws as errors", async () => {
  const sync = await runBounded(100, undefined, () => {
    throw new Error("boom");
  });
  assert.equal(sync.kind, "error");
  const async = await runBounded(100, undefined, () => Promise.reject(new Error("late")));
  assert.equal(async.kind, "error");
});

Deno.test("runBounded() times out a hanging call and aborts its signal", async () => {
  let seen: AbortSignal | undefined;
  const outcome = await runBounded(20, undefined, (signal) => {
    seen = signal;
    return new Promise(() => {});
  });
  assert.equal(outcome.kind, "timeout");
  assert.ok(seen?.aborted);
});

Deno.test("runBounded() stops waiting when cancelled", async () => {
  const cancel = new AbortController();
  let seen: AbortSignal | undefined;
  const pending = runBounded(10_000, cancel.signal, (signal) => {
    seen = signal;
    return new Promise(() => {});
  });
  cancel.abort();
  assert.equal((await pending).kind, "cancelled");
  assert.ok(seen?.aborted);
});
