import assert from "node:assert/strict";
import postgres from "postgres";
import {
  openPostgresStore,
  SCHEMA_VERSION,
  SchemaVersionError,
} from "../../lib/store/postgres_store.ts";
import { StoreUnavailableError } from "../../lib/store/token_store.ts";
import { startPostgres } from "../support/postgres.ts";
import { freePort, systemTest } from "../support/system.ts";
import { checkBackendContract, record } from "./store_contract.ts";

const noDefer = (error: StoreUnavailableError) => {
  throw error;
};

systemTest(
  "openPostgresStore() meets the backend contract on a real server",
  ["initdb"],
  async () => {
    await using pg = await startPostgres();
    const store = await openPostgresStore(pg.uri, noDefer);
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
      openPostgresStore(pg.uri, noDefer),
      openPostgresStore(pg.uri, noDefer),
    ]);
    await Promise.all([a.close(), b.close()]);
    const sql = postgres(pg.uri, { max: 1, onnotice: () => {} });
    try {
      assert.deepEqual([...await sql`select version from authotron_schema`], [{
        version: SCHEMA_VERSION,
      }]);
      await sql`update authotron_schema set version = ${SCHEMA_VERSION + 1}`;
      await assert.rejects(openPostgresStore(pg.uri, noDefer), SchemaVersionError);
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
    const store = await openPostgresStore(pg.uri, (e) => deferred.push(e));
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
  const store = await openPostgresStore(uri, (e) => deferred.push(e));
  try {
    assert.equal(deferred.length, 1);
    assert.doesNotMatch(deferred[0]!.message, /secret-pw/);
    await assert.rejects(store.findByHash("00"), StoreUnavailableError);
  } finally {
    await store.close();
  }
});
