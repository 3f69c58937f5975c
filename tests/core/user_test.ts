import assert from "node:assert/strict";
import { applyPatch, resolveUser, userToJson } from "../../packages/plugin/_host/user.ts";

Deno.test("resolveUser() fills in defaults and the entry's realm", () => {
  const user = resolveUser({ username: "adam" }, "ecmwf");
  assert.deepEqual(user, {
    version: 1,
    username: "adam",
    realm: "ecmwf",
    roles: [],
    attributes: {},
    scopes: {},
  });
  assert.equal(
    userToJson(user),
    '{"version":1,"username":"adam","realm":"ecmwf","roles":[],"attributes":{},"scopes":{}}',
  );
});

Deno.test("resolveUser() rejects malformed users", () => {
  for (
    const bad of [null, { username: 1 }, { username: "a", roles: [1] }, {
      username: "a",
      attributes: { n: 1 },
    }, { username: "a", scopes: { s: "x" } }]
  ) {
    assert.throws(() => resolveUser(bad as never, "r"), { name: "InvalidUserError" });
  }
});

Deno.test("applyPatch() appends new roles only and upserts attributes", () => {
  const user = resolveUser({ username: "a", roles: ["x"], attributes: { k: "1" } }, "r");
  const patched = applyPatch(user, { roles: ["x", "y", "y"], attributes: { k: "2", m: "3" } });
  assert.deepEqual(patched.roles, ["x", "y"]);
  assert.deepEqual(patched.attributes, { k: "2", m: "3" });
  assert.deepEqual(user.roles, ["x"], "the original user is not mutated");
});

Deno.test("applyPatch() keeps a __proto__ attribute as plain data", () => {
  const user = resolveUser({ username: "a" }, "r");
  const patch = JSON.parse('{"attributes": {"__proto__": "polluted"}}');
  const patched = applyPatch(user, patch);
  assert.equal(Object.getPrototypeOf(patched.attributes), Object.prototype);
  assert.equal(Object.getOwnPropertyDescriptor(patched.attributes, "__proto__")?.value, "polluted");
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});
