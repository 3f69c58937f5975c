/**
 * `deno task import-tokens`: auth-o-tron's MongoDB token and user
 * collections, as mongoexport writes them (fixtures in tests/fixtures/mongo/),
 * imported into a real Deno KV file and a real PostgreSQL server; each
 * imported token then authenticates as its user through a real gateway.
 */
import assert from "node:assert/strict";
import { parseMongoExport } from "../../lib/store/mongo_export.ts";
import { IMPORTED_TOKEN_NAME, importLegacyTokens } from "../../lib/store/token_import.ts";
import { openKvStore } from "../../lib/store/kv_store.ts";
import { hashToken } from "../../lib/store/token_secret.ts";
import { basicAuth, startGateway, testConfig } from "../support/gateway.ts";
import { startPostgres } from "../support/postgres.ts";
import { systemTest } from "../support/system.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const FIXTURES = new URL("../fixtures/mongo/", import.meta.url).pathname;
const USERS = `${FIXTURES}users.ejson`;
const TOKENS = `${FIXTURES}tokens.ejson`;
const ADAM_TOKENS = [
  "3f0b2a6e-8c1d-4e5f-9a7b-1c2d3e4f5a6b",
  "7d9e8f10-2a3b-4c5d-8e6f-708192a3b4c5",
];
const EVE_TOKEN = "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f";
const decoder = new TextDecoder();

/** Runs the import-tokens task (its flags from deno.json) with `config` as AOT_CONFIG_PATH. */
async function importTokens(configPath: string, args: string[]) {
  const tasks = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)).tasks;
  const argv = String(tasks["import-tokens"]).trim().split(/\s+/);
  assert.equal(argv[0], "deno");
  const out = await new Deno.Command(Deno.execPath(), {
    args: [...argv.slice(1), ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", AOT_CONFIG_PATH: configPath },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** Imports twice (the second run imports nothing), then checks every token through a gateway. */
async function importAndAuthenticate(store: string): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "aot-import-" });
  try {
    // adam signs in with a password to manage his tokens: token routes refuse a token (#22 F3).
    const yaml = testConfig(
      `providers:
  - type: plain
    name: ecmwf-users
    realm: ecmwf
    users: [{ username: adam, password: adam-pw }]
`,
      { store },
    );
    await Deno.writeTextFile(`${dir}/config.yaml`, yaml);
    const first = await importTokens(`${dir}/config.yaml`, [USERS, TOKENS]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /read 2 user\(s\) and 3 token\(s\); imported 3, already present 0/);
    const again = await importTokens(`${dir}/config.yaml`, [TOKENS, USERS]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /imported 0, already present 3/);

    await using gw = await startGateway(yaml);
    const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
    for (const token of ADAM_TOKENS) {
      const { res, body } = await gw.request("/whoami", bearer(token));
      assert.equal(res.status, 200, body);
      const user = JSON.parse(body);
      assert.deepEqual([user.username, user.realm, user.roles], ["adam", "ecmwf", [
        "user",
        "admin",
      ]]);
      assert.deepEqual(user.attributes, { email: "adam@example.org" });
    }
    const eve = JSON.parse((await gw.request("/whoami", bearer(EVE_TOKEN))).body);
    assert.deepEqual([eve.username, eve.realm, eve.scopes], ["eve", "other", { svc: ["read"] }]);
    const adam = { headers: { authorization: basicAuth("adam:adam-pw") } };
    assert.equal((await gw.request("/tokens", bearer(ADAM_TOKENS[0]))).res.status, 403);
    const listed = JSON.parse((await gw.request("/tokens", adam)).body);
    assert.equal(listed.tokens.length, 2);
    assert.ok(!JSON.stringify(listed).includes(ADAM_TOKENS[0]), "listings never show the secret");
    const unknown = "00000000-0000-4000-8000-000000000000";
    assert.equal((await gw.request("/whoami", bearer(unknown))).res.status, 401);
    // DELETE /token/<the original token string> revokes it, as in the original.
    const deleted = await gw.request(`/token/${ADAM_TOKENS[1]}`, { method: "DELETE", ...adam });
    assert.equal(deleted.res.status, 204);
    assert.equal((await gw.request("/whoami", bearer(ADAM_TOKENS[1]))).res.status, 401);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("import-tokens: a mongoexport of users and tokens into Deno KV, idempotent, usable at once", async () => {
  const dir = await Deno.makeTempDir({ prefix: "aot-import-kv-" });
  try {
    await importAndAuthenticate(`{ enabled: true, type: deno-kv, path: ${dir}/tokens.kv }`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

systemTest(
  "import-tokens: the same export into PostgreSQL, idempotent, usable at once",
  ["initdb"],
  async () => {
    await using pg = await startPostgres();
    await importAndAuthenticate(`{ enabled: true, type: postgres, uri: "${pg.uri}" }`);
  },
);

Deno.test("import-tokens: malformed documents are refused by line number and nothing is imported", async () => {
  const dir = await Deno.makeTempDir({ prefix: "aot-import-bad-" });
  try {
    const store = `{ enabled: true, type: deno-kv, path: ${dir}/tokens.kv }`;
    const yaml = testConfig("providers: []\n", { store });
    await Deno.writeTextFile(`${dir}/config.yaml`, yaml);
    const good = (await Deno.readTextFile(TOKENS)).split("\n");
    // Line 2 of the array loses its token_string; a valid line 3 must not be imported either.
    await Deno.writeTextFile(
      `${dir}/tokens.ejson`,
      [good[0], good[1].replace('"token_string":', '"token_strin":'), good[2]].join("\n"),
    );
    const out = await importTokens(`${dir}/config.yaml`, [USERS, `${dir}/tokens.ejson`]);
    assert.equal(out.code, 1);
    assert.match(out.stderr, /tokens\.ejson:2: token\.token_string: expected a non-empty string/);
    assert.match(out.stderr, /nothing was imported/);
    await using gw = await startGateway(yaml);
    const { res } = await gw.request("/whoami", {
      headers: { authorization: `Bearer ${ADAM_TOKENS[0]}` },
    });
    assert.equal(res.status, 401, "not even the valid documents were imported");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("parseMongoExport() reads JSON lines, --jsonArray and --pretty; names the line of each problem", async () => {
  const users = await Deno.readTextFile(USERS);
  const tokens = await Deno.readTextFile(TOKENS);
  const pretty = (JSON.parse(tokens) as unknown[]).map((d) => JSON.stringify(d, null, 2))
    .join("\n");
  for (const text of [tokens, tokens.replace(/\n/g, ""), pretty]) {
    const parsed = parseMongoExport([{ name: "u", text: users }, { name: "t", text }]);
    assert.deepEqual(parsed.errors, []);
    assert.deepEqual(parsed.tokens.map((t) => t.token), [...ADAM_TOKENS, EVE_TOKEN]);
    assert.equal(parsed.users, 2);
    assert.equal(parsed.tokens[0].createdAt, 0x6560a1b2 * 1000, "from the ObjectId");
  }
  const bad = [
    users.split("\n")[0],
    "",
    "{not json}",
    '{"user_id":"6560a1b2c3d4e5f6aaaaaaaa","token":{"token_string":"not-a-uuid"}}',
    '{"user_id":"6560a1b2c3d4e5f6cccccccc","token":{"token_string":"' + EVE_TOKEN + '"}}',
    '{"user_id":"6560a1b2c3d4e5f6dddddddd","user":{"username":"x","realm":"r","roles":[1]}}',
    '{"user_id":{"$regex":"x"},"token":{}}',
    '{"user_id":"6560a1b2c3d4e5f6aaaaaaaa","user":{"username":"a","realm":"r","roles":[]}}',
    "[1]",
  ].join("\n");
  assert.deepEqual(parseMongoExport([{ name: "x.json", text: bad }]).errors, [
    "x.json:3: not valid JSON",
    'x.json:7: user_id: unsupported Extended JSON value "$regex"',
    "x.json:4: token.token_string: expected a UUID",
    "x.json:6: user.roles: expected a list of strings",
    "x.json:8: user_id 6560a1b2c3d4e5f6aaaaaaaa is also at x.json:1",
    "x.json:9: expected a document (an object)",
    "x.json:5: no user document with user_id 6560a1b2c3d4e5f6cccccccc (export the users collection too)",
  ]);
});

Deno.test("importLegacyTokens() stores only the SHA-256, dates from the ObjectId, expiry from the ttl", async () => {
  const dir = await Deno.makeTempDir({ prefix: "aot-import-unit-" });
  const store = await openKvStore(`${dir}/tokens.kv`);
  try {
    const parsed = parseMongoExport([
      { name: "u", text: await Deno.readTextFile(USERS) },
      { name: "t", text: await Deno.readTextFile(TOKENS) },
    ]);
    const now = Date.UTC(2026, 11, 5);
    const counts = await importLegacyTokens(store, parsed.tokens, { ttlMs: 60_000, now });
    assert.deepEqual(counts, { imported: 3, alreadyPresent: 0 });
    const record = await store.findByHash(await hashToken(EVE_TOKEN));
    assert.ok(record);
    assert.equal(record.hash, await hashToken(EVE_TOKEN));
    assert.equal(record.expiresAt, now + 60_000);
    assert.equal(record.createdAt, 0x6560a1b2 * 1000);
    assert.equal(record.prefix, EVE_TOKEN.slice(0, 4));
    assert.equal(record.name, IMPORTED_TOKEN_NAME);
    assert.deepEqual(record.owner, { username: "eve", realm: "other" });
    assert.ok(!JSON.stringify(record).includes(EVE_TOKEN), "the token itself is never stored");
    const again = await importLegacyTokens(store, parsed.tokens, { ttlMs: 60_000, now });
    assert.deepEqual(again, { imported: 0, alreadyPresent: 3 });
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
