// Recovery after an IdP outage: while requests wait and no keys are usable, the gateway retries
// the JWKS every 1–2 s (jittered), so it follows the IdP back within about 2 s, yet a dead IdP
// sees at most about one fetch a second however many requests arrive.
import assert from "node:assert/strict";
import { authenticateBearer, bearerConfig, reportMeasurement } from "../support/bearer.ts";
import { startGateway } from "../support/gateway.ts";
import { signingKey, signToken, startJwksServer } from "../support/jwks_server.ts";
import { sleep } from "../support/system.ts";

const OUTAGE_MS = 8000;

Deno.test("JWKS outage: recovery within ~2 s of the IdP's return, at most ~1 fetch/s while it is down", async () => {
  const key = await signingKey("ES256", "recovery-1");
  await using jwks = startJwksServer([key.jwk]);
  jwks.mode = "500";
  await using gw = await startGateway(bearerConfig(
    `  - type: jwt
    name: idp
    realm: ecmwf
    cert_uri: ${jwks.uri}
    iam_realm: ecmwf
`,
    { timeoutMs: 2000 },
  ));
  const token = await signToken(key);
  // 4 clients, each sending a request every 20 ms: ~200 requests a second wait for keys.
  const started = performance.now();
  let recoveredAt: number | undefined;
  let back: number | undefined = undefined;
  const counts = { 200: 0, 503: 0, other: 0 };
  const client = async () => {
    while (recoveredAt === undefined || performance.now() - recoveredAt < 200) {
      const { status } = await authenticateBearer(gw, token);
      if (status === 200 || status === 503) counts[status]++;
      else counts.other++;
      if (status === 200 && back !== undefined) recoveredAt ??= performance.now();
      assert.ok(performance.now() - started < OUTAGE_MS + 10_000, "recovered at all");
      await sleep(20);
    }
  };
  const clients = Array.from({ length: 4 }, client);
  await sleep(OUTAGE_MS);
  const duringOutage = jwks.requests;
  jwks.mode = "ok";
  back = performance.now();
  await Promise.all(clients);

  const recoveryMs = recoveredAt! - back;
  reportMeasurement("JWKS recovery after the IdP came back (ms)", Math.round(recoveryMs));
  reportMeasurement(`JWKS fetches during a ${OUTAGE_MS} ms outage`, duringOutage);
  assert.equal(counts.other, 0, JSON.stringify(counts));
  assert.ok(counts[503] > 100, `requests kept arriving during the outage: ${counts[503]}`);
  assert.ok(recoveryMs < 2500, `recovered ${recoveryMs} ms after the IdP came back`);
  // At most one fetch per second (the first at once), single-flight whatever the request rate.
  assert.ok(duringOutage <= OUTAGE_MS / 1000 + 1, `${duringOutage} fetches in ${OUTAGE_MS} ms`);
  assert.ok(duringOutage >= OUTAGE_MS / 2000 - 1, `kept trying: ${duringOutage} fetches`);
});
