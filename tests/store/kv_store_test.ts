import assert from "node:assert/strict";
import { loadConfig } from "../../lib/config/load.ts";
import { GatewayError } from "../../lib/util/errors.ts";
import { createGateway } from "../../lib/gateway.ts";
import { openKvStore } from "../../lib/store/kv_store.ts";
import { StoreUnavailableError } from "../../lib/store/token_store.ts";
import { testConfig } from "../support/gateway.ts";
import { checkBackendContract, record } from "./store_contract.ts";

Deno.test("openKvStore() meets the backend contract on a real KV file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "aot-kv-" });
  try {
    const store = await openKvStore(`${dir}/nested/dir/tokens.kv`);
    try {
      await checkBackendContract(store);
    } finally {
      await store.close();
    }
    assert.ok((await Deno.stat(`${dir}/nested/dir/tokens.kv`)).isFile, "directory created");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openKvStore() keeps tokens across close and reopen of the file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "aot-kv-" });
  try {
    const { record: r } = await record({ username: "u", realm: "r" });
    const first = await openKvStore(`${dir}/tokens.kv`);
    await first.create(r);
    await first.close();
    const second = await openKvStore(`${dir}/tokens.kv`);
    assert.deepEqual(await second.findByHash(r.hash), r);
    await second.close();
    await assert.rejects(second.ping(), StoreUnavailableError, "a closed store is unavailable");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("createGateway() refuses to start when the KV file cannot be created, naming store.path", async () => {
  const dir = await Deno.makeTempDir({ prefix: "aot-kv-" });
  try {
    await Deno.writeTextFile(`${dir}/not-a-dir`, "");
    const yaml = testConfig("providers: []", {
      store: `{ enabled: true, path: "${dir}/not-a-dir/tokens.kv" }`,
    });
    await Deno.writeTextFile(`${dir}/config.yaml`, yaml);
    const config = await loadConfig(`${dir}/config.yaml`, {});
    const error = await createGateway(config, { logger: { sink: () => {} } }).then(
      () => assert.fail("started"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof GatewayError);
    assert.equal(error.code, "ERR_STARTUP");
    assert.match(error.message, /token store \(store\.path .*not-a-dir\/tokens\.kv\)/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
