import assert from "node:assert/strict";
import plain from "../../augmenters/plain.ts";
import plainAdvanced from "../../augmenters/plain_advanced.ts";
import { callContext, captureLogger, pluginContext } from "../support/plugin_context.ts";
import type { ResolvedUser } from "../../lib/plugin.ts";

function user(username: string, roles: string[] = []): ResolvedUser {
  return { version: 1, username, realm: "r1", roles, attributes: {}, scopes: {} };
}

Deno.test("plain augmenter adds every role listing the username and warns at startup", async () => {
  const log = captureLogger();
  const aug = await plain.create(
    plain.parseOptions!({ roles: { admin: ["eve", "adam"], ops: ["adam"], x: ["zed"] } }),
    pluginContext("aug", "r1", log),
  );
  assert.deepEqual(await aug.augment(user("adam"), callContext()), { roles: ["admin", "ops"] });
  assert.deepEqual(await aug.augment(user("nobody"), callContext()), { roles: [] });
  assert.equal(log.lines[0]?.event, "augmenters.plain.deprecation");
  assert.equal(log.lines[0]?.level, "warn");
});

Deno.test("plain_advanced matches on username or role and is serial", async () => {
  assert.equal(plainAdvanced.serial, true);
  const aug = await plainAdvanced.create(
    plainAdvanced.parseOptions!({
      match: { username: ["alice"], role: ["operator"] },
      augment: { roles: ["admin", "admin"], attributes: { team: "platform" } },
    }),
    pluginContext(),
  );
  assert.deepEqual(await aug.augment(user("alice"), callContext()), {
    roles: ["admin", "admin"],
    attributes: { team: "platform" },
  });
  assert.deepEqual((await aug.augment(user("bob", ["operator"]), callContext()))?.roles, [
    "admin",
    "admin",
  ]);
  assert.equal(await aug.augment(user("bob", ["user"]), callContext()), undefined);
});

Deno.test("plain_advanced with an empty match never matches", async () => {
  const aug = await plainAdvanced.create(
    plainAdvanced.parseOptions!({ match: {}, augment: { roles: ["x"] } }),
    pluginContext(),
  );
  assert.equal(await aug.augment(user("alice", ["any"]), callContext()), undefined);
});

Deno.test("plain_advanced parseOptions() requires match and augment mappings", () => {
  assert.throws(() => plainAdvanced.parseOptions!({ augment: {} }), { name: "OptionsError" });
  assert.throws(
    () => plainAdvanced.parseOptions!({ match: {}, augment: { attributes: { n: 1 } } }),
    (e: { path?: unknown[] }) => JSON.stringify(e.path) === '["augment","attributes","n"]',
  );
});
