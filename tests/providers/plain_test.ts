import assert from "node:assert/strict";
import plain from "../../providers/plain.ts";
import { hashPassword } from "../../providers/_shared/password_hash.ts";
import { OptionsError } from "../../lib/plugin.ts";
import { basic, callContext, pluginContext } from "../support/plugin_context.ts";

async function provider(users: unknown[]) {
  const options = plain.parseOptions!({ users });
  return await plain.create(options, pluginContext("local", "default"));
}

const USERS = [
  { username: "adam", password: "admin", roles: ["user", "admin"] },
  { username: "eve", password: "p:w" },
  { username: "用户", password: "密码", roles: [] },
  { username: "alice", password: "" },
];

Deno.test("plain provider accepts valid credentials with configured roles in order", async () => {
  const p = await provider(USERS);
  assert.deepEqual(await p.authenticate(basic("adam:admin"), callContext()), {
    username: "adam",
    roles: ["user", "admin"],
  });
  assert.equal(plain.scheme, "Basic");
});

Deno.test("plain provider rejects wrong passwords, unknown users and case differences", async () => {
  const p = await provider(USERS);
  for (const text of ["adam:wrong", "nobody:admin", "Adam:admin", " adam:admin", "adam:admin "]) {
    assert.equal(await p.authenticate(basic(text), callContext()), undefined, text);
  }
});

Deno.test("plain provider splits at the first colon and needs a username", async () => {
  const p = await provider(USERS);
  assert.equal((await p.authenticate(basic("eve:p:w"), callContext()))?.username, "eve");
  assert.equal(await p.authenticate(basic(":admin"), callContext()), undefined);
  assert.equal(await p.authenticate(basic(":"), callContext()), undefined);
  assert.equal(await p.authenticate(basic("adam:"), callContext()), undefined);
  // A user with an empty password logs in without a colon, as in the original.
  assert.equal((await p.authenticate(basic("alice"), callContext()))?.username, "alice");
});

Deno.test("plain provider handles unicode credentials", async () => {
  const p = await provider(USERS);
  assert.equal((await p.authenticate(basic("用户:密码"), callContext()))?.username, "用户");
});

Deno.test("plain provider rejects non-canonical base64 and invalid UTF-8", async () => {
  const p = await provider(USERS);
  const good = basic("adam:admin");
  for (const bad of [good.replace(/=+$/, ""), good + "=", ` ${good}`, "YWRhbTphZG1pbg=-", "%%%"]) {
    assert.equal(await p.authenticate(bad, callContext()), undefined, bad);
  }
  // "YQ==" is "a"; "YR==" has non-zero trailing bits.
  assert.equal(await p.authenticate("YR==", callContext()), undefined);
  assert.equal(await p.authenticate(btoa("\xff\xfe:x"), callContext()), undefined);
});

Deno.test("plain provider with no users accepts nobody", async () => {
  const p = await provider([]);
  assert.equal(await p.authenticate(basic("adam:admin"), callContext()), undefined);
});

Deno.test("plain provider verifies PBKDF2 password hashes", async () => {
  const hash = await hashPassword("s3cret", 1000);
  const p = await provider([{ username: "carol", password_hash: hash, roles: ["ops"] }, {
    username: "dan",
    password: "plain",
  }]);
  assert.deepEqual(await p.authenticate(basic("carol:s3cret"), callContext()), {
    username: "carol",
    roles: ["ops"],
  });
  assert.equal(await p.authenticate(basic("carol:wrong"), callContext()), undefined);
  assert.equal(await p.authenticate(basic("nobody:s3cret"), callContext()), undefined);
  assert.equal((await p.authenticate(basic("dan:plain"), callContext()))?.username, "dan");
});

Deno.test("plain parseOptions() names the offending key", () => {
  const cases: [unknown[], (string | number)[]][] = [
    [[{ username: "a", password: 5 }], ["users", 0, "password"]],
    [[{ username: "a" }], ["users", 0, "password"]],
    [[{ username: "a", password: "x", password_hash: "y" }], ["users", 0, "password"]],
    [[{ username: "a", password_hash: "md5:abc" }], ["users", 0, "password_hash"]],
    [[{ username: "a", password: "x" }, { username: 7, password: "x" }], ["users", 1, "username"]],
    [[{ username: "a", password: "x", roles: "admin" }], ["users", 0, "roles"]],
  ];
  for (const [users, path] of cases) {
    assert.throws(
      () => plain.parseOptions!({ users }),
      (e) => e instanceof OptionsError && JSON.stringify(e.path) === JSON.stringify(path),
      JSON.stringify(users),
    );
  }
});

Deno.test("plain provider with 20,000 users: looks each up by name, listed twice means either password", async () => {
  const users: unknown[] = Array.from({ length: 20_000 }, (_, i) => ({
    username: `user${i}`,
    password: `password-${i}`,
    roles: [`r${i}`],
  }));
  users.push({ username: "user7", password: "second-password", roles: ["second"] });
  const p = await provider(users);
  for (const i of [0, 7, 12_345, 19_999]) {
    assert.deepEqual(await p.authenticate(basic(`user${i}:password-${i}`), callContext()), {
      username: `user${i}`,
      roles: [`r${i}`],
    });
    assert.equal(
      await p.authenticate(basic(`user${i}:password-${i + 1}`), callContext()),
      undefined,
    );
  }
  // The first entry of a name that matches wins, as when every user was compared in order.
  assert.deepEqual(await p.authenticate(basic("user7:second-password"), callContext()), {
    username: "user7",
    roles: ["second"],
  });
  assert.equal(await p.authenticate(basic("user20000:password-20000"), callContext()), undefined);
  // Synchronous without hashed users: the host runs it without a timeout timer.
  assert.ok(!(p.authenticate(basic("user1:password-1"), callContext()) instanceof Promise));
});
