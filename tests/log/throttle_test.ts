import assert from "node:assert/strict";
import { LogThrottle, THROTTLE_WINDOW_MS } from "../../lib/observability/log_throttle.ts";

Deno.test("LogThrottle.admit() emits first, suppresses within the window, reports the count after", () => {
  assert.equal(THROTTLE_WINDOW_MS, 30_000);
  const t = new LogThrottle();
  assert.equal(t.admit("k", 0), 0);
  assert.equal(t.admit("k", 1), undefined);
  assert.equal(t.admit("k", 29_999), undefined);
  assert.equal(t.admit("k", 30_000), 2);
  assert.equal(t.admit("k", 30_001), undefined);
  assert.equal(t.admit("k", 90_000), 1);
  assert.equal(t.admit("k", 120_000), 0);
});

Deno.test("LogThrottle.admit() tracks keys independently", () => {
  const t = new LogThrottle(10);
  assert.equal(t.admit("a", 0), 0);
  assert.equal(t.admit("b", 5), 0);
  assert.equal(t.admit("a", 5), undefined);
  assert.equal(t.admit("b", 14), undefined);
  assert.equal(t.admit("a", 10), 1);
  assert.equal(t.admit("b", 15), 1);
});

Deno.test("LogThrottle stays bounded: expired windows are pruned, live ones kept", () => {
  const t = new LogThrottle(1_000);
  for (let i = 0; i < 1_000; i++) t.admit(`old-${i}`, 0);
  assert.equal(t.admit("live", 1_500), 0);
  for (let i = 0; i < 1_000; i++) t.admit(`new-${i}`, 1_600);
  assert.ok(t.size <= 1_024, `size ${t.size}`);
  assert.equal(t.admit("live", 1_700), undefined);
  assert.equal(t.admit("new-1", 1_700), undefined);
});

Deno.test("LogThrottle.admitWithReason() counts the suppressed occurrences by reason, bounded", () => {
  const t = new LogThrottle(10);
  assert.deepEqual(t.admitWithReason("k", 0, "wrong"), { suppressed: 0, reasons: {} });
  t.admitWithReason("k", 1, "credential not accepted");
  t.admitWithReason("k", 2, "credential not accepted");
  t.admitWithReason("k", 3, "no answer within 100 ms");
  assert.deepEqual(t.admitWithReason("k", 10, "x"), {
    suppressed: 3,
    reasons: { "credential not accepted": 2, "no answer within 100 ms": 1 },
  });
  for (let i = 0; i < 40; i++) t.admitWithReason("k", 11, `reason ${i}`);
  const next = t.admitWithReason("k", 20)!;
  assert.equal(next.suppressed, 40);
  assert.equal(Object.keys(next.reasons).length, 17, "16 reasons, then `other`");
  assert.equal(next.reasons.other, 24);
});
