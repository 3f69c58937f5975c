import assert from "node:assert/strict";
import { GatewayMetrics } from "../../lib/observability/metrics.ts";

Deno.test("GatewayMetrics.collecting(): the hooks registered while building are removed together", () => {
  const metrics = new GatewayMetrics({ version: "t", providers: [], augmenters: [] });
  const calls: string[] = [];
  metrics.onCollect(() => calls.push("kept"));
  const [value, drop] = metrics.collecting(() => {
    metrics.onCollect(() => calls.push("dropped"));
    return 42;
  });
  assert.equal(value, 42);
  metrics.render();
  assert.deepEqual(calls, ["kept", "dropped"]);
  drop();
  calls.length = 0;
  metrics.render();
  assert.deepEqual(calls, ["kept"]);
});
