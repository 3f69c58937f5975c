/**
 * Catalogue 2.3 (C01–C06): Authorization framing and provider routing.
 *
 * @module
 */

import assert from "node:assert/strict";
import { basicAuth, startGateway } from "../support/gateway.ts";
import { bearerConfig } from "../support/bearer.ts";
import { signingKey, startJwksServer } from "../support/jwks_server.ts";

const KEY = await signingKey("ES256");

async function gateway(uri: string) {
  return await startGateway(bearerConfig(`  - type: plain
    name: local
    realm: local
    users: [{ username: alice, password: pw }]
  - type: jwt
    name: idp
    realm: idp
    cert_uri: ${uri}`));
}

Deno.test("C01-C04 empty, malformed and unknown-scheme credentials are 401 with the full challenge", async () => {
  await using jwks = startJwksServer([KEY.jwk]);
  await using gw = await gateway(jwks.uri);
  const values = [
    undefined,
    "Bearer",
    "Bearer ",
    "Bearer  x",
    "Bearer a b",
    "Bearer a,b",
    'Bearer "x"',
    "Bearer %41%42",
    "Digest username=x",
    "Negotiate YIIB",
    "Token abc",
    "Bearer2 abc",
  ];
  for (const authorization of values) {
    const headers: Record<string, string> = authorization === undefined ? {} : { authorization };
    const { res } = await gw.request("/authenticate", { headers });
    assert.equal(res.status, 401, String(authorization));
    assert.equal(res.headers.get("www-authenticate"), 'Basic realm="local", Bearer realm="idp"');
    assert.equal(res.headers.get("authorization"), null);
  }
});

Deno.test("C06 a Basic password never reaches a Bearer provider's upstream", async () => {
  await using jwks = startJwksServer([KEY.jwk]);
  await using gw = await gateway(jwks.uri);
  assert.equal(
    (await gw.request("/authenticate", { headers: { authorization: basicAuth("alice:pw") } })).res
      .status,
    200,
  );
  assert.equal(
    (await gw.request("/authenticate", { headers: { authorization: basicAuth("alice:bad") } })).res
      .status,
    401,
  );
  assert.equal(jwks.requests, 0, "the JWKS endpoint saw nothing of the Basic requests");
});
