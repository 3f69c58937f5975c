/**
 * `HEAD /authenticate`, what the shipped NGINX and Caddy configs send: the
 * same status and headers as `GET` (JWT, challenges, Retry-After) and no
 * body; `GET` keeps its body for clients that read it.
 */
import assert from "node:assert/strict";
import { decodeJwt } from "jose";
import { rawStatusLine } from "../support/raw_http.ts";
import { basicAuth } from "../support/gateway.ts";
import { CHALLENGE, startIngressGateway } from "./ingress_gateway.ts";

Deno.test("HEAD /authenticate answers like GET, without a body", async () => {
  await using gw = await startIngressGateway();
  for (
    const [authorization, status, body] of [
      [basicAuth("alice:alice-password"), 200, "Authenticated successfully"],
      [basicAuth("alice:wrong"), 401, '{"error": "Unauthorized access"}'],
      [
        "Bearer some-partner-token",
        503,
        '{"error": "Authentication service temporarily unavailable"}',
      ],
    ] as const
  ) {
    const get = await fetch(`${gw.url}/authenticate`, { headers: { authorization } });
    assert.equal(get.status, status);
    assert.equal(await get.text(), body);
    const head = await fetch(`${gw.url}/authenticate`, {
      method: "HEAD",
      headers: { authorization },
    });
    assert.equal(head.status, status);
    assert.equal(await head.text(), "");
    for (const name of ["www-authenticate", "retry-after", "content-type"]) {
      assert.equal(head.headers.get(name), get.headers.get(name), `${status} ${name}`);
    }
    if (status === 200) {
      const claims = decodeJwt(head.headers.get("authorization")!.slice("Bearer ".length));
      assert.deepEqual([claims.username, claims.realm], ["alice", "demo"]);
    } else {
      assert.equal(head.headers.get("www-authenticate"), CHALLENGE);
    }
  }
  // And over a raw HTTP/1.1 connection, as an ingress sends it.
  const line = await rawStatusLine(
    Number(new URL(gw.url).port),
    `HEAD /authenticate HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: ${
      basicAuth("alice:alice-password")
    }\r\n\r\n`,
  );
  assert.match(line, /^HTTP\/1\.1 200 /);
});
