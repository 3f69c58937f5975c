/**
 * #22 F5: the gateway never answers 200 with a downstream JWT that is
 * already expired: not for an upstream JWT accepted inside its `exp` leeway,
 * and not for a long-lived token minted from a Bearer session whose `exp`
 * has passed since (the stored snapshot no longer inherits it).
 */
import assert from "node:assert/strict";
import { decodeJwt } from "jose";
import { startGateway, testConfig } from "../support/gateway.ts";
import { signingKey, signToken, startJwksServer } from "../support/jwks_server.ts";

const now = () => Math.floor(Date.now() / 1000);

function config(certUri: string, kvPath: string): string {
  return testConfig(
    `auth:
  decision_cache_ttl_ms: 0
providers:
  - type: jwt
    name: idp
    realm: partners
    cert_uri: ${certUri}
`,
    { store: `{ enabled: true, path: "${kvPath}", default_ttl: 600, max_ttl: 3600 }` },
  );
}

async function issuedExp(res: Response): Promise<number> {
  await res.body?.cancel();
  assert.equal(res.status, 200);
  return decodeJwt(res.headers.get("authorization")!.replace(/^Bearer /, "")).exp!;
}

Deno.test("F5: an upstream JWT accepted inside its leeway gets a JWT that is not already expired", async () => {
  const key = await signingKey("RS256");
  await using jwks = startJwksServer([key.jwk]);
  const dir = await Deno.makeTempDir({ prefix: "aot-f5-" });
  try {
    await using gw = await startGateway(config(jwks.uri, `${dir}/tokens.kv`));
    const lapsed = await signToken(key, { sub: "pat", scope: "read", exp: now() - 30 });
    const before = now();
    const exp = await issuedExp(
      await fetch(`${gw.url}/authenticate`, { headers: { authorization: `Bearer ${lapsed}` } }),
    );
    assert.ok(exp > now(), `issued exp ${exp} is in the future`);
    assert.ok(exp <= before + 5 + 1, "only the minimum lifetime, not jwt.exp");
    // Still capped by a live upstream exp.
    const soon = now() + 600;
    const live = await signToken(key, { sub: "pat", scope: "read", exp: soon });
    const capped = await issuedExp(
      await fetch(`${gw.url}/authenticate`, { headers: { authorization: `Bearer ${live}` } }),
    );
    assert.equal(capped, soon);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("F5: a long-lived token minted from a Bearer session does not inherit the session's exp", async () => {
  const key = await signingKey("RS256");
  await using jwks = startJwksServer([key.jwk]);
  const dir = await Deno.makeTempDir({ prefix: "aot-f5-" });
  try {
    await using gw = await startGateway(config(jwks.uri, `${dir}/tokens.kv`));
    // The session's JWT is in its last seconds (accepted inside the leeway): its exp has passed.
    const session = await signToken(key, { sub: "pat", scope: "read", exp: now() - 10 });
    const created = await fetch(`${gw.url}/tokens`, {
      method: "POST",
      headers: { authorization: `Bearer ${session}`, "content-type": "application/json" },
      body: JSON.stringify({ expires_in: 600 }),
    });
    assert.equal(created.status, 200);
    const { token } = await created.json();
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${gw.url}/authenticate`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const jwt = decodeJwt(res.headers.get("authorization")!.replace(/^Bearer /, ""));
      await issuedExp(res);
      assert.ok(jwt.exp! >= now() + 3000, `exp ${jwt.exp}: jwt.exp (3600), not the session's`);
      assert.equal((jwt.attributes as Record<string, string>).exp, undefined);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
