/**
 * Catalogue 2.5 (H01–H06) cases beyond tests/observability/ and
 * tests/http/authenticate_test.ts: upstream errors never reach the response.
 *
 * @module
 */

import assert from "node:assert/strict";
import { startGateway } from "../support/gateway.ts";
import { authenticateBearer, bearerConfig } from "../support/bearer.ts";
import { signingKey, signToken, startJwksServer } from "../support/jwks_server.ts";

Deno.test("H05 a failing JWKS upstream: generic 503 body, no URL, error or stack in the response", async () => {
  const key = await signingKey("ES256");
  await using jwks = startJwksServer([key.jwk]);
  jwks.mode = "html";
  await using gw = await startGateway(bearerConfig(`  - type: jwt
    name: idp
    realm: idp
    cert_uri: ${jwks.uri}?password=hunter2`));
  const { res, body } = await gw.request("/authenticate", {
    headers: { authorization: `Bearer ${await signToken(key)}` },
  });
  assert.equal(res.status, 503);
  assert.equal(body, '{"error": "Authentication service temporarily unavailable"}');
  assert.equal(res.headers.get("content-type"), "application/json");
  for (const [name, value] of res.headers) {
    assert.doesNotMatch(`${name}: ${value}`, /hunter2|127\.0\.0\.1|Error|at /, name);
  }
  assert.equal((await authenticateBearer(gw, "garbage")).status, 401);
});
