import assert from "node:assert/strict";
import postgres from "postgres";
import { hashToken } from "../../lib/store/token_secret.ts";
import { basicAuth, startGateway, testConfig, type TestGateway } from "../support/gateway.ts";
import { startPostgres } from "../support/postgres.ts";
import { sleep, systemTest } from "../support/system.ts";

const ALICE = { authorization: basicAuth("alice:alice-pw") };
const BOB = { authorization: basicAuth("bob:bob-pw") };

function config(uri: string): string {
  return testConfig(
    `auth: { timeout_in_ms: 3000 }
providers:
  - type: plain
    name: demo-users
    realm: demo
    users:
      - { username: alice, password: alice-pw, roles: [user] }
      - { username: bob, password: bob-pw, roles: [user] }
`,
    { store: `{ enabled: true, type: postgres, uri: "${uri}" }` },
  );
}

function bearer(token: string): RequestInit {
  return { headers: { authorization: `Bearer ${token}` } };
}

async function create(gw: TestGateway): Promise<{ token: string; id: string }> {
  const { res, body } = await gw.request("/token", { headers: ALICE });
  assert.equal(res.status, 200, body);
  return JSON.parse(body);
}

async function status(gw: TestGateway, path: string, init?: RequestInit): Promise<number> {
  return (await gw.request(path, init)).res.status;
}

systemTest(
  "two gateways on one PostgreSQL: created on A works on B, deleted on B fails on A at once",
  ["initdb"],
  async () => {
    await using pg = await startPostgres();
    await using a = await startGateway(config(pg.uri));
    await using b = await startGateway(config(pg.uri));
    const { token, id } = await create(a);
    assert.equal(await status(b, "/authenticate", bearer(token)), 200);
    assert.equal(await status(a, "/authenticate", bearer(token)), 200);
    const listed = JSON.parse((await b.request("/tokens", { headers: ALICE })).body);
    assert.deepEqual(listed.tokens.map((t: { id: string }) => t.id), [id]);
    assert.equal(await status(b, `/token/${id}`, { method: "DELETE", headers: BOB }), 404);
    assert.equal(await status(a, "/authenticate", bearer(token)), 200, "survives bob's attempt");
    assert.equal(await status(b, `/token/${id}`, { method: "DELETE", headers: ALICE }), 204);
    assert.equal(await status(a, "/authenticate", bearer(token)), 401);
    assert.equal(await status(b, "/authenticate", bearer(token)), 401);
  },
);

systemTest(
  "a dump of the PostgreSQL tokens table holds only hashes, never a usable token",
  ["initdb"],
  async () => {
    await using pg = await startPostgres();
    await using gw = await startGateway(config(pg.uri));
    const { token } = await create(gw);
    const sql = postgres(pg.uri, { max: 1, onnotice: () => {} });
    try {
      const rows = await sql`select * from authotron_tokens`;
      const dump = JSON.stringify(rows);
      assert.equal(rows.length, 1);
      assert.equal(dump.includes(token), false);
      assert.equal(dump.includes(token.slice(12)), false, "not even the secret part");
      assert.equal(rows[0]!.token_hash, await hashToken(token));
      assert.equal(rows[0]!.prefix, token.slice(0, 12));
      // A hash presented as a token is just a garbage Bearer credential.
      assert.equal(await status(gw, "/authenticate", bearer(rows[0]!.token_hash)), 401);
    } finally {
      await sql.end();
    }
  },
);

systemTest(
  "PostgreSQL down: token routes 503, opaque tokens 503, other Bearer 401, Basic 200; recovers",
  ["initdb"],
  async () => {
    await using pg = await startPostgres();
    await using gw = await startGateway(config(pg.uri));
    const { token } = await create(gw);
    await pg.stop();
    for (const [path, method] of [["/token", "GET"], ["/tokens", "GET"], ["/tokens", "POST"]]) {
      const { res, body } = await gw.request(path!, { method, headers: ALICE });
      assert.equal(res.status, 503, `${method} ${path}`);
      assert.equal(body, '{"error":"Token store unavailable"}');
      assert.equal(res.headers.get("retry-after"), "5");
    }
    assert.equal(
      await status(gw, `/token/${crypto.randomUUID()}`, { method: "DELETE", headers: ALICE }),
      503,
    );
    const opaque = await gw.request("/authenticate", bearer(token));
    assert.equal(opaque.res.status, 503);
    assert.equal(await status(gw, "/authenticate", bearer("some.jwt.value")), 401);
    assert.equal(await status(gw, "/authenticate", { headers: ALICE }), 200);
    assert.equal(gw.logs.some((l) => l.includes(token) || l.includes("gwpw")), false);
    const metrics = (await gw.request(`${gw.metricsUrl}/metrics`)).body;
    assert.match(
      metrics,
      /authotron_token_store_operations_total\{operation="find",result="error"\} [1-9]/,
    );

    await pg.start();
    // Failing fast until the next probe (every second) finds the database back.
    const back = performance.now();
    while (await status(gw, "/authenticate", bearer(token)) !== 200) {
      assert.ok(performance.now() - back < 3000, "recovered within the probe interval");
      await sleep(100);
    }
  },
);
