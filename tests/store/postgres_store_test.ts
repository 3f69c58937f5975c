import assert from "node:assert/strict";
import postgres from "postgres";
import {
  openPostgresStore,
  SCHEMA_VERSION,
  SchemaVersionError,
} from "../../lib/store/postgres_store.ts";
import { StoreUnavailableError } from "../../lib/store/token_store.ts";
import { startPostgres } from "../support/postgres.ts";
import { freePort, sleep, systemTest } from "../support/system.ts";
import { checkBackendContract, record } from "./store_contract.ts";

const noDefer = (error: StoreUnavailableError) => {
  throw error;
};

systemTest(
  "openPostgresStore() meets the backend contract on a real server",
  ["initdb"],
  async () => {
    await using pg = await startPostgres();
    const store = await openPostgresStore(pg.uri, { timeoutMs: 5000, onDeferred: noDefer });
    try {
      await checkBackendContract(store);
    } finally {
      await store.close();
    }
  },
);

systemTest(
  "openPostgresStore() migrates once, records the schema version and refuses a newer schema",
  ["initdb"],
  async () => {
    await using pg = await startPostgres();
    // Two replicas starting at the same time: the advisory lock serialises the migration.
    const [a, b] = await Promise.all([
      openPostgresStore(pg.uri, { timeoutMs: 5000, onDeferred: noDefer }),
      openPostgresStore(pg.uri, { timeoutMs: 5000, onDeferred: noDefer }),
    ]);
    await Promise.all([a.close(), b.close()]);
    const sql = postgres(pg.uri, { max: 1, onnotice: () => {} });
    try {
      assert.deepEqual([...await sql`select version from authotron_schema`], [{
        version: SCHEMA_VERSION,
      }]);
      await sql`update authotron_schema set version = ${SCHEMA_VERSION + 1}`;
      await assert.rejects(
        openPostgresStore(pg.uri, { timeoutMs: 5000, onDeferred: noDefer }),
        SchemaVersionError,
      );
    } finally {
      await sql.end();
    }
  },
);

systemTest(
  "openPostgresStore() starts while the database is down and works once it is back",
  ["initdb"],
  async () => {
    await using pg = await startPostgres();
    await pg.stop();
    const deferred: StoreUnavailableError[] = [];
    const store = await openPostgresStore(pg.uri, {
      timeoutMs: 5000,
      onDeferred: (e) => deferred.push(e),
    });
    try {
      assert.equal(deferred.length, 1);
      assert.doesNotMatch(deferred[0]!.message, /gwpw/, "no password in the message");
      await assert.rejects(store.ping(), StoreUnavailableError);
      await pg.start();
      const { record: r } = await record({ username: "u", realm: "r" });
      await store.create(r);
      assert.equal((await store.findByHash(r.hash))?.id, r.id);
    } finally {
      await store.close();
    }
  },
);

Deno.test("openPostgresStore() reports a refused connection as unavailable, quickly", async () => {
  const uri = `postgres://gw:secret-pw@127.0.0.1:${freePort()}/gateway`;
  const deferred: StoreUnavailableError[] = [];
  const store = await openPostgresStore(uri, {
    timeoutMs: 5000,
    onDeferred: (e) => deferred.push(e),
  });
  try {
    assert.equal(deferred.length, 1);
    assert.doesNotMatch(deferred[0]!.message, /secret-pw/);
    await assert.rejects(store.findByHash("00"), StoreUnavailableError);
  } finally {
    await store.close();
  }
});

systemTest(
  "openPostgresStore(): a delete abandoned at its deadline during an outage is never applied",
  ["initdb"],
  async () => {
    await using pg = await startPostgres();
    const store = await openPostgresStore(pg.uri, {
      timeoutMs: 1000,
      onDeferred: noDefer,
      reconnectDelayS: 3,
    });
    const check = postgres(pg.uri, { max: 1, onnotice: () => {} });
    try {
      const owner = { username: "u", realm: "r" };
      const { record: r } = await record(owner);
      await store.create(r);
      await pg.stop();
      // Every pooled connection fails once, so its next attempt waits 3 s: the delete below
      // is still queued in the driver when its deadline passes.
      const failing = Array.from({ length: 10 }, () => store.ping().catch((error) => error));
      await sleep(200);
      const started = performance.now();
      const deleting = store.deleteOwned(owner, { id: r.id }, AbortSignal.timeout(1000)).then(
        (deleted) => ({ deleted, ms: performance.now() - started }),
        (error: unknown) => ({ error, ms: performance.now() - started }),
      );
      const early = await Promise.race([deleting, sleep(1300).then(() => undefined)]);
      await pg.start(); // while the driver still holds the delete, if it does
      await sleep(3500); // past the driver's reconnect delay: a queued delete would have run
      const rows = await check`select id from authotron_tokens where id = ${r.id}`;
      assert.equal(rows.length, 1, "the abandoned delete was not applied");
      assert.ok(early && "error" in early, "the delete was answered by its deadline");
      assert.ok(early.error instanceof StoreUnavailableError);
      assert.ok(early.ms >= 900, `rejected at the deadline, not before (${early.ms} ms)`);
      for (const error of await Promise.all(failing)) {
        assert.ok(error instanceof StoreUnavailableError);
      }
      assert.equal((await store.findByHash(r.hash))?.id, r.id, "the store works again");
      assert.equal(await store.deleteOwned(owner, { id: r.id }), true);
    } finally {
      await check.end();
      await store.close();
    }
  },
);
