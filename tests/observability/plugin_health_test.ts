import assert from "node:assert/strict";
import { jwksHealth } from "../../lib/observability/metrics_collected.ts";
import { GatewayMetrics } from "../../lib/observability/metrics.ts";
import { PluginHealth, scrubCredential } from "../../lib/plugins/health.ts";
import { assertValidExposition } from "../metrics/exposition.ts";

Deno.test("scrubCredential() cuts the Bearer credential and the Basic password out", () => {
  assert.equal(
    scrubCredential("bad token tok-12345 rejected", "Bearer", "tok-12345"),
    "bad token [REDACTED] rejected",
  );
  const basic = btoa("alice:s3cret-pw");
  assert.equal(
    scrubCredential(`user alice with s3cret-pw (${basic})`, "Basic", basic),
    "user alice with [REDACTED] ([REDACTED])",
  );
  assert.equal(scrubCredential("a short one: abc", "Bearer", "abc"), "a short one: abc");
  assert.equal(scrubCredential("x".repeat(400), "Bearer", "tok-12345").length, 301);
});

Deno.test("PluginHealth.providerFailed() counts upstream kinds, unknown ones as other", () => {
  const metrics = new GatewayMetrics({ version: "t", providers: [], augmenters: [] });
  const health = new PluginHealth(metrics, () => Date.UTC(2026, 0, 15));
  health.providerFailed("idp", "upstream_unavailable", "upstream answered 503", "5xx");
  health.providerFailed("idp", "upstream_unavailable", "weird", "martian");
  health.providerFailed("idp", "error", "plugin bug");
  const m = assertValidExposition(metrics.render());
  assert.equal(m.get('authotron_upstream_failures_total{kind="5xx",provider_name="idp"}'), 1);
  assert.equal(m.get('authotron_upstream_failures_total{kind="other",provider_name="idp"}'), 1);
  assert.deepEqual(health.lastError("provider", "idp"), {
    at: "2026-01-15T00:00:00.000Z",
    result: "error",
    message: "plugin bug",
  });
  assert.equal(health.lastError("augmenter", "idp"), undefined);
});

Deno.test("jwksHealth() takes the oldest key set and any refresh error; tolerates junk", () => {
  const status = (jwks: unknown) => ({ name: "p", status: () => ({ jwks }) });
  assert.deepEqual(
    jwksHealth(status([
      { uri: "a", age_seconds: 3, last_error: null, keys: 1 },
      { uri: "b", age_seconds: 30, last_error: "timeout", keys: 1 },
    ])),
    { ageSeconds: 30, failing: true },
  );
  assert.deepEqual(jwksHealth(status([{ uri: "a", last_error: "" }, null, 7])), {
    ageSeconds: undefined,
    failing: false,
  });
  assert.equal(jwksHealth(status([])), undefined);
  assert.equal(jwksHealth(status("nope")), undefined);
  assert.equal(jwksHealth({ name: "p" }), undefined);
  assert.equal(
    jwksHealth({
      name: "p",
      status: () => {
        throw new Error("broken");
      },
    }),
    undefined,
  );
});
