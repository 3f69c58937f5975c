import assert from "node:assert/strict";
import { buildAttributes, isSensitiveKey, REDACTED } from "../../lib/observability/log_redact.ts";

Deno.test("isSensitiveKey() matches secret names case-insensitively", () => {
  for (
    const key of [
      "authorization",
      "Authorization",
      "password",
      "old_passwd",
      "client_secret",
      "token",
      "access_token",
      "refresh_token",
      "api_key",
      "apikey",
      "ApiKey",
      "cookie",
      "set_cookie",
      "credential",
      "credentials",
      "jwt",
      "id_jwt",
    ]
  ) {
    assert.ok(isSensitiveKey(key), key);
  }
});

Deno.test("isSensitiveKey() spares descriptions of secrets", () => {
  for (
    const key of [
      "token_length",
      "tokens_count",
      "cache_ttl_seconds",
      "cache_key_type",
      "token_type",
      "max_credentials",
      "username",
      "realm",
      "roles",
      "kid",
      "jwks_uri",
    ]
  ) {
    assert.ok(!isSensitiveKey(key), key);
  }
});

Deno.test("buildAttributes() redacts nested keys and URL passwords", () => {
  const attributes = buildAttributes("store.init.failed", {
    config: { uri: "postgres://u:pw@h/db", auth: { password: "x" } },
    list: [{ token: "t" }],
    url: new URL("https://u:pw2@example.test/x"),
    plain: "mail me at a@b.test",
  }, "authotron.store");
  assert.deepEqual(attributes, {
    "event.name": "store.init.failed",
    "event.domain": "store",
    config: { uri: `postgres://u:${REDACTED}@h/db`, auth: { password: REDACTED } },
    list: [{ token: REDACTED }],
    url: `https://u:${REDACTED}@example.test/x`,
    plain: "mail me at a@b.test",
    "code.target": "authotron.store",
  });
});

Deno.test("buildAttributes() bounds depth and survives cycles", () => {
  const cyclic: Record<string, unknown> = { name: "loop" };
  cyclic.self = cyclic;
  const attributes = buildAttributes("a", { cyclic }, "t");
  assert.doesNotThrow(() => JSON.stringify(attributes));
  assert.equal(buildAttributes("nodots", undefined, "t")["event.domain"], "nodots");
});
