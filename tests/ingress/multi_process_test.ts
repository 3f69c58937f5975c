/**
 * Several gateway processes on one host (one per core, each on its own port,
 * all listed in the ingress's `upstream`): what they share (a PostgreSQL
 * token store) and what each keeps for itself (decision cache, brute-force
 * tables), as docs/performance.md describes. The rolling restart of two such
 * processes behind NGINX is in nginx_e2e_test.ts.
 */
import assert from "node:assert/strict";
import { basicAuth } from "../support/gateway.ts";
import { startPostgres } from "../support/postgres.ts";
import { freePort, systemTest, tempDir } from "../support/system.ts";
import { ingressConfigFile } from "./ingress_gateway.ts";
import { type GatewayProcess, startGatewayProcess } from "./gateway_process.ts";

const ALICE = basicAuth("alice:alice-password");

async function status(port: number, authorization: string, path = "/authenticate") {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { authorization } });
  await res.body?.cancel();
  return res.status;
}

systemTest(
  "two gateway processes on one host share the PostgreSQL token store, not their caches or limits",
  ["initdb"],
  async (t) => {
    await using pg = await startPostgres();
    const dir = await tempDir("multi");
    const ports = [freePort(), freePort()];
    const procs: GatewayProcess[] = [];
    try {
      for (const [i, port] of ports.entries()) {
        // Without the unreachable partner IdP: an unknown Bearer token is then a 401, not a 503.
        const yaml = (await ingressConfigFile(port))
          .replace(/ {2}- module: \S+test_bearer\.ts\n( {4}.*\n)+/, "")
          .replace(
            "store: { enabled: false }",
            `store: { enabled: true, type: postgres, uri: "${pg.uri}" }`,
          )
          .replace(
            "auth: { timeout_in_ms: 3000 }",
            "auth: { timeout_in_ms: 3000, brute_force: { max_failures: 2 } }",
          );
        await Deno.writeTextFile(`${dir}/replica${i}.yaml`, yaml);
        procs.push(
          await startGatewayProcess(`${dir}/replica${i}.yaml`, port, `${dir}/replica${i}.log`),
        );
      }
      const [a, b] = ports as [number, number];

      await t.step("a token created through one process is accepted by the other", async () => {
        const res = await fetch(`http://127.0.0.1:${a}/tokens`, {
          method: "POST",
          headers: { authorization: ALICE },
        });
        assert.equal(res.status, 200);
        const { token } = await res.json() as { token: string };
        assert.equal(await status(b, `Bearer ${token}`), 200);

        // Deleted through A: refused by both at once (token-store decisions from a shared
        // PostgreSQL store are never cached, so B's own decision cache cannot keep it alive).
        const deleted = await fetch(`http://127.0.0.1:${a}/token/${token}`, {
          method: "DELETE",
          headers: { authorization: ALICE },
        });
        assert.ok(deleted.ok, `DELETE answered ${deleted.status}: ${await deleted.text()}`);
        assert.equal(await status(a, `Bearer ${token}`), 401);
        assert.equal(await status(b, `Bearer ${token}`), 401);
      });

      await t.step("brute-force limits count per process", async () => {
        const wrong = basicAuth("alice:wrong");
        for (let i = 0; i < 3; i++) assert.equal(await status(a, wrong), 401);
        // A has blocked alice from this address; B has seen no failure and lets her in.
        assert.equal(await status(a, ALICE), 401);
        assert.equal(await status(b, ALICE), 200);
      });
    } finally {
      for (const proc of procs) await proc.proc.stop("SIGTERM");
      await Deno.remove(dir, { recursive: true });
    }
  },
);
