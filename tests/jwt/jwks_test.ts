import assert from "node:assert/strict";
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { JWKS_CONTENT_TYPE, jwksBody, jwksRoute } from "../../lib/http/jwks_routes.ts";
import { startGateway } from "../support/gateway.ts";
import { generateKey, issue, jwtConfig, type KeyKind, PLAIN_PROVIDER, SECRET } from "./keys.ts";

const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "k", "oth"];

/** Fetches the JWKS and checks that no key carries a private or symmetric member. */
async function publicJwks(url: string): Promise<{ keys: Record<string, unknown>[] }> {
  const res = await fetch(`${url}/.well-known/jwks.json`);
  const text = await res.text();
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), JWKS_CONTENT_TYPE);
  assert.match(res.headers.get("cache-control")!, /^public, max-age=\d+$/);
  assert.ok(!text.includes(SECRET), "the HMAC secret is never published");
  const jwks = JSON.parse(text) as { keys: Record<string, unknown>[] };
  for (const key of jwks.keys) {
    for (const member of PRIVATE_MEMBERS) assert.equal(key[member], undefined, member);
    assert.notEqual(key.kty, "oct");
    assert.equal(key.use, "sig");
  }
  return jwks;
}

for (const alg of ["EdDSA", "ES256", "RS256"] as const) {
  for (const form of ["PEM", "JWK"] as const) {
    Deno.test(`/.well-known/jwks.json verifies ${alg} tokens (${form} key) with jose createRemoteJWKSet`, async () => {
      const key = generateKey(alg as KeyKind);
      const text = form === "PEM" ? key.privatePem : key.privateJwk;
      await using gw = await startGateway(
        jwtConfig(
          `  exp: 300\n  algorithm: ${alg}\n  secret: ${SECRET}\n  keys:\n    - private_key_file: signing.key\n`,
          PLAIN_PROVIDER,
        ),
        { files: { "signing.key": text } },
      );
      const token = await issue(gw.url);
      const jwks = createRemoteJWKSet(new URL(`${gw.url}/.well-known/jwks.json`));
      const { protectedHeader, payload } = await jwtVerify(token, jwks, {
        algorithms: [alg],
        issuer: "authotron-test",
      });
      assert.equal(protectedHeader.alg, alg);
      assert.equal(protectedHeader.typ, "JWT");
      assert.equal(protectedHeader.kid, gw.gateway.issuer.kid);
      assert.equal(payload.username, "adam");
      const published = await publicJwks(gw.url);
      assert.equal(published.keys.length, 1);
      assert.equal(published.keys[0]!.kid, protectedHeader.kid);
      assert.equal(published.keys[0]!.alg, alg);
      // The default kid is the RFC 7638 thumbprint: 43 base64url characters.
      assert.match(String(protectedHeader.kid), /^[A-Za-z0-9_-]{43}$/);
    });
  }
}

Deno.test("/.well-known/jwks.json publishes no key for HS256, and never the secret", async () => {
  await using gw = await startGateway(
    jwtConfig(`  exp: 300\n  secret: ${SECRET}\n`, PLAIN_PROVIDER),
  );
  const jwks = await publicJwks(gw.url);
  assert.deepEqual(jwks, { keys: [] });
  const header = decodeProtectedHeader(await issue(gw.url));
  assert.equal(header.alg, "HS256");
  assert.match(String(header.kid), /^hs256-[A-Za-z0-9_-]{16}$/);
  assert.ok(!String(header.kid).includes(SECRET));
});

Deno.test("/.well-known/jwks.json: HS256 still signing while an EdDSA key is pre-published", async () => {
  const next = generateKey("EdDSA");
  await using gw = await startGateway(
    jwtConfig(
      `  exp: 60\n  secret: ${SECRET}\n  keys:\n    - { kid: next, private_key_env: NEXT_KEY, active: false }\n`,
      PLAIN_PROVIDER,
    ),
    { env: { NEXT_KEY: next.privatePem } },
  );
  const jwks = await publicJwks(gw.url);
  assert.deepEqual(jwks.keys.map((k) => [k.kid, k.alg, k.crv]), [["next", "EdDSA", "Ed25519"]]);
  const res = await fetch(`${gw.url}/.well-known/jwks.json`);
  await res.body?.cancel();
  assert.equal(res.headers.get("cache-control"), "public, max-age=60");
  assert.equal(decodeProtectedHeader(await issue(gw.url)).alg, "HS256");
});

Deno.test("/.well-known/jwks.json lists retired keys (public_key_file too) after the active one", async () => {
  const [active, retired, foreign] = [
    generateKey("ES256"),
    generateKey("EdDSA"),
    generateKey("RS256"),
  ];
  await using gw = await startGateway(
    jwtConfig(
      `  exp: 7200\n  algorithm: ES256\n  keys:\n` +
        `    - { kid: old, private_key_file: old.pem, active: false }\n` +
        `    - { kid: new, private_key_file: new.pem, active: true }\n` +
        `    - { kid: rsa-pub, public_key_file: rsa.pub }\n`,
      PLAIN_PROVIDER,
    ),
    {
      files: {
        "old.pem": retired.privatePem,
        "new.pem": active.privatePem,
        "rsa.pub": foreign.publicPem,
      },
    },
  );
  const jwks = await publicJwks(gw.url);
  assert.deepEqual(jwks.keys.map((k) => `${k.kid}:${k.alg}`), [
    "old:EdDSA",
    "new:ES256",
    "rsa-pub:RS256",
  ]);
  assert.equal(decodeProtectedHeader(await issue(gw.url)).kid, "new");
  const res = await fetch(`${gw.url}/.well-known/jwks.json`);
  await res.body?.cancel();
  assert.equal(res.headers.get("cache-control"), "public, max-age=300", "capped at 300 s");
  assert.ok(gw.logs.some((l) => l.includes("startup.jwt.long_lifetime")));
  assert.ok(
    !gw.logs.some((l) => l.includes("BEGIN") || l.includes(active.privatePem.slice(40, 80))),
  );
});

Deno.test("jwksRoute() drops a key once its not_after has passed", async () => {
  let now = 1_000;
  const keys = [
    { jwk: { kty: "OKP", crv: "Ed25519", x: "a", kid: "old" }, notAfter: 1_010 },
    { jwk: { kty: "OKP", crv: "Ed25519", x: "b", kid: "new" } },
  ];
  const route = jwksRoute(keys, 3600, () => now);
  const body = async () => {
    const res = await route.methods.GET!(new Request("http://x/"), { params: {}, info: undefined });
    return (JSON.parse(await res.text()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
  };
  assert.deepEqual(await body(), ["old", "new"]);
  now = 1_010;
  assert.deepEqual(await body(), ["new"]);
  assert.equal(jwksBody(keys, 999), JSON.stringify({ keys: keys.map((k) => k.jwk) }));
});
