/**
 * Catalogue 2.1 (J01–J33) cases not already covered by
 * tests/providers/jwt_test.ts and tests/http/jwt_provider_test.ts; the
 * mapping is in docs/security.md.
 *
 * @module
 */

import assert from "node:assert/strict";
import { base64url, type JWK } from "jose";
import jwt from "../../providers/jwt.ts";
import type { Provider } from "../../lib/plugin.ts";
import { pluginContext, verdict } from "../support/plugin_context.ts";
import {
  baseClaims,
  rawToken,
  type SigningKey,
  signingKey,
  signToken,
  startJwksServer,
} from "../support/jwks_server.ts";
import { startGateway } from "../support/gateway.ts";
import { authenticateBearer, bearerConfig } from "../support/bearer.ts";

const ES256 = await signingKey("ES256");
const RS256 = await signingKey("RS256");
const HS512 = await signingKey("HS512");
const JWKS: JWK[] = [ES256.jwk, RS256.jwk, HS512.jwk];
const now = () => Math.floor(Date.now() / 1000);

async function provider(uri: string, extra: Record<string, unknown> = {}): Promise<Provider> {
  return await jwt.create(jwt.parseOptions!({ cert_uri: uri, ...extra }), pluginContext("TestJWT"));
}

/** The user, or `undefined` for any rejection (its own or not). */
function check(p: Provider, token: string) {
  return verdict(p, token);
}

/** Signs arbitrary payload bytes with the HS512 key (to test what the claim parser sees). */
async function signRaw(key: SigningKey, header: string, payload: Uint8Array): Promise<string> {
  const input = `${base64url.encode(header)}.${base64url.encode(payload)}`;
  const hmac = await crypto.subtle.importKey(
    "raw",
    key.secret as Uint8Array<ArrayBuffer>,
    { name: "HMAC", hash: "SHA-512" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign("HMAC", hmac, new TextEncoder().encode(input));
  return `${input}.${base64url.encode(new Uint8Array(mac))}`;
}

Deno.test("J07 jwt provider never follows jku or x5u (canary listener gets no request)", async () => {
  let canaryHits = 0;
  await using canary = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    canaryHits++;
    return Response.json({ keys: [] });
  });
  await using server = startJwksServer(JWKS);
  const p = await provider(server.uri);
  const attacker = await signingKey("ES256", ES256.kid);
  const url = `http://127.0.0.1:${canary.addr.port}/jwks.json`;
  for (const header of [{ jku: url }, { x5u: url }, { jku: "http://169.254.169.254/latest" }]) {
    assert.equal(await check(p, await signToken(attacker, baseClaims(), header)), undefined);
  }
  assert.equal(canaryHits, 0);
  assert.equal(server.requests, 1, "only the configured cert_uri was fetched");
});

Deno.test("J08 jwt provider ignores x5c and x5t headers for trust", async () => {
  await using server = startJwksServer(JWKS);
  const p = await provider(server.uri);
  const attacker = await signingKey("RS256", RS256.kid);
  const forged = await signToken(attacker, baseClaims(), {
    x5c: ["MIIBszCCAVmgAwIBAgIUQ=="],
    x5t: "dGh1bWJwcmludA",
  });
  assert.equal(await check(p, forged), undefined);
  const genuine = await signToken(RS256, baseClaims(), { x5c: ["MIIB"], x5t: "eA" });
  assert.equal((await check(p, genuine))?.username, "alice", "x5* neither helps nor hurts");
});

Deno.test("J09 jwt provider treats hostile kid values as opaque map keys", async () => {
  await using server = startJwksServer(JWKS);
  const p = await provider(server.uri, { jwks_refetch_interval_s: 3600 });
  const kids: unknown[] = [
    "../../../../dev/null",
    "' OR '1'='1",
    "|id",
    "%00",
    "\u0000",
    "a\r\nX-Admin: 1",
    "k".repeat(64 * 1024),
    42,
    { kid: ES256.kid },
    [ES256.kid],
    "__proto__",
    "constructor",
  ];
  for (const kid of kids) {
    assert.equal(await check(p, await signToken(ES256, baseClaims(), { kid })), undefined);
  }
  assert.ok(server.requests <= 2, `JWKS fetched ${server.requests} times`);
});

Deno.test("J12 jwt provider with clock_skew_s 0 refuses a token that expired a second ago", async () => {
  await using server = startJwksServer(JWKS);
  const strict = await provider(server.uri, { clock_skew_s: 0 });
  assert.equal(
    await check(strict, await signToken(HS512, baseClaims({ exp: now() - 1 }))),
    undefined,
  );
  assert.equal(
    (await check(strict, await signToken(HS512, baseClaims({ exp: now() + 5 }))))?.username,
    "alice",
  );
});

Deno.test("J13/J15/J16 max_token_lifetime_s caps exp-iat and refuses a future or missing iat", async () => {
  await using server = startJwksServer(JWKS);
  const open = await provider(server.uri);
  const capped = await provider(server.uri, { max_token_lifetime_s: 3600 });
  const t = now();
  const good = baseClaims({ iat: t, exp: t + 3600 });
  assert.equal((await check(capped, await signToken(HS512, good)))?.username, "alice");
  const bad: Record<string, unknown>[] = [
    { iat: t, exp: t + 3601 }, // lifetime over the cap (J13)
    { iat: t + 365 * 86400, exp: t + 365 * 86400 + 60 }, // issued a year ahead (J15)
    { iat: undefined, exp: t + 60 }, // no iat: the lifetime cannot be checked
    { iat: String(t), exp: t + 60 },
    { iat: t, exp: 1e308 }, // absurd numbers (J16)
    { iat: t, exp: 2 ** 60 },
    { iat: -1e308, exp: t + 60 },
    { iat: t, exp: true },
    { iat: t, exp: "9999999999" },
    { iat: t, exp: -1 },
  ];
  for (const claims of bad) {
    const token = await signToken(HS512, baseClaims(claims));
    assert.equal(await check(capped, token), undefined, JSON.stringify(claims));
  }
  // Without the option the original's rules apply: iat is not looked at, exp must be a number.
  const future = await signToken(HS512, baseClaims({ iat: t + 365 * 86400, exp: 1e308 }));
  assert.equal((await check(open, future))?.username, "alice");
  assert.equal(
    await check(open, await signToken(HS512, baseClaims({ exp: "9999999999" }))),
    undefined,
  );
  assert.equal(await check(open, await signToken(HS512, baseClaims({ exp: true }))), undefined);
});

Deno.test("J19 jwt provider refuses a header typ other than JWT or at+jwt, and ID tokens without scope", async () => {
  await using server = startJwksServer(JWKS);
  const p = await provider(server.uri);
  for (const typ of ["JWT", "jwt", "at+jwt", "application/at+jwt"]) {
    assert.equal(
      (await check(p, await signToken(ES256, baseClaims(), { typ })))?.username,
      "alice",
      typ,
    );
  }
  for (const typ of ["logout+jwt", "dpop+jwt", "secevent+jwt", "JOSE", "", 1]) {
    assert.equal(
      await check(p, await signToken(ES256, baseClaims(), { typ })),
      undefined,
      String(typ),
    );
  }
  const idToken = { sub: "alice", aud: "client", typ: "ID", exp: now() + 300 };
  assert.equal(await check(p, await signToken(ES256, idToken)), undefined, "no scope claim");
});

Deno.test("J20 jwt provider refuses every crit header", async () => {
  await using server = startJwksServer(JWKS);
  const p = await provider(server.uri);
  const headers = [{ crit: ["foo"], foo: 1 }, { crit: [] }, { crit: ["b64"], b64: false }, {
    crit: ["exp"],
  }];
  for (const header of headers) {
    const token = rawToken({ alg: "ES256", kid: ES256.kid, ...header }, baseClaims(), "c2ln");
    assert.equal(await check(p, token), undefined, JSON.stringify(header));
  }
  // Signed for real, jose would still need the b64 extension; the pre-check refuses it first.
  const signed = await signToken(HS512, baseClaims(), { crit: ["exp"], exp: 1 }).catch(() =>
    undefined
  );
  if (signed) assert.equal(await check(p, signed), undefined);
});

Deno.test("J21 jwt provider refuses stripped, truncated, extended, zero and r=s=0 signatures", async () => {
  await using server = startJwksServer(JWKS);
  const p = await provider(server.uri);
  const token = await signToken(ES256);
  assert.equal((await check(p, token))?.username, "alice");
  const [h, c, s] = token.split(".");
  const zero64 = base64url.encode(new Uint8Array(64));
  for (
    const sig of [
      "",
      s.slice(0, -4),
      `${s}AAAA`,
      zero64,
      "MAYCAQACAQA",
      base64url.encode(new Uint8Array(1)),
    ]
  ) {
    assert.equal(await check(p, `${h}.${c}.${sig}`), undefined, sig);
  }
  assert.equal(await check(p, `${h}.${c}`), undefined);
});

Deno.test("J22 jwt provider accepts the high-S twin of an ES256 token as the same user", async () => {
  await using server = startJwksServer(JWKS);
  const p = await provider(server.uri);
  const token = await signToken(ES256);
  const [h, c, s] = token.split(".");
  const raw = base64url.decode(s);
  const n = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
  const sValue = BigInt(
    "0x" + Array.from(raw.slice(32), (b) => b.toString(16).padStart(2, "0")).join(""),
  );
  const twinS = (n - sValue).toString(16).padStart(64, "0");
  const twin = new Uint8Array(64);
  twin.set(raw.slice(0, 32));
  twin.set(Uint8Array.from(twinS.match(/../g)!, (x) => parseInt(x, 16)), 32);
  const twinToken = `${h}.${c}.${base64url.encode(twin)}`;
  assert.notEqual(twinToken, token);
  // WebCrypto verifies both (Wycheproof tc1 is "valid"); both name the same user, and no
  // denylist or throttle in the gateway is keyed on the token string (docs/security.md J22).
  assert.deepEqual(await check(p, twinToken), await check(p, token));
});

Deno.test("J25 jwt provider refuses JWE and JSON serializations before any JWKS fetch", async () => {
  await using server = startJwksServer(JWKS);
  const p = await provider(server.uri);
  const jweHeader = base64url.encode(
    JSON.stringify({ alg: "PBES2-HS256+A128KW", enc: "A128GCM", p2c: 2147483647, zip: "DEF" }),
  );
  const inputs = [
    `${jweHeader}.AAAA.AAAA.AAAA.AAAA`,
    JSON.stringify({ protected: "eyJhbGciOiJFUzI1NiJ9", payload: "e30", signature: "AAAA" }),
    JSON.stringify({ payload: "e30", signatures: [{ protected: "e30", signature: "AA" }] }),
  ];
  for (const input of inputs) assert.equal(await check(p, input), undefined);
  assert.equal(server.requests, 0);
});

Deno.test("J26 jwt provider refuses duplicate claim and header names", async () => {
  await using server = startJwksServer(JWKS);
  const p = await provider(server.uri);
  const exp = now() + 600;
  const header = JSON.stringify({ alg: "HS512", kid: HS512.kid });
  const enc = (text: string) => new TextEncoder().encode(text);
  const ok = await signRaw(HS512, header, enc(`{"sub":"alice","scope":"s","exp":${exp}}`));
  assert.equal((await check(p, ok))?.username, "alice", "the raw signer works");
  const payloads = [
    `{"sub":"alice","sub":"admin","scope":"s","exp":${exp}}`,
    `{"sub":"alice","scope":"s","exp":${exp},"realm_access":{"roles":["a"],"roles":["admin"]}}`,
    `{"sub":"alice","s\\u0063ope":"s","scope":"t","exp":${exp}}`,
  ];
  for (const payload of payloads) {
    assert.equal(await check(p, await signRaw(HS512, header, enc(payload))), undefined, payload);
  }
  const dupHeader = `{"alg":"HS512","kid":"${HS512.kid}","kid":"${HS512.kid}"}`;
  const body = enc(`{"sub":"alice","scope":"s","exp":${exp}}`);
  assert.equal(await check(p, await signRaw(HS512, dupHeader, body)), undefined, "header");
});

Deno.test("J27 jwt provider refuses non-object, non-UTF-8, BOM and unbalanced nested payloads", async () => {
  await using server = startJwksServer(JWKS);
  const p = await provider(server.uri);
  const header = JSON.stringify({ alg: "HS512", kid: HS512.kid });
  const exp = now() + 600;
  const enc = (text: string) => new TextEncoder().encode(text);
  const payloads: Uint8Array[] = [
    enc("[]"),
    enc('"x"'),
    enc("null"),
    new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]),
    enc(`\ufeff{"sub":"alice","scope":"s","exp":${exp}}`),
    enc(`{"sub":"alice","scope":"s","exp":${exp}}garbage`),
    enc("[".repeat(10_000)),
  ];
  for (const [i, payload] of payloads.entries()) {
    assert.equal(await check(p, await signRaw(HS512, header, payload)), undefined, `payload ${i}`);
  }
  // A deeply nested claim inside a valid object is valid JSON: no crash, it is just an attribute.
  const deep = `{"sub":"alice","scope":"s","exp":${exp},"deep":${"[".repeat(5000)}${
    "]".repeat(5000)
  }}`;
  const user = await check(p, await signRaw(HS512, header, enc(deep)));
  assert.equal(user?.attributes?.deep?.length, 10_000);
});

Deno.test("J28 jwt provider refuses 64 KiB and 1 MiB tokens and 100 000 dots quickly", async () => {
  await using server = startJwksServer(JWKS);
  const p = await provider(server.uri);
  const seven = await signToken(HS512, baseClaims({ pad: "x".repeat(7 * 1024) }));
  assert.equal((await check(p, seven))?.username, "alice", "7 KiB is fine");
  const started = performance.now();
  for (const size of [64 * 1024, 1024 * 1024]) {
    assert.equal(
      await check(p, await signToken(HS512, baseClaims({ pad: "x".repeat(size) }))),
      undefined,
    );
  }
  assert.equal(await check(p, ".".repeat(100_000)), undefined);
  assert.equal(await check(p, "a.".repeat(100_000) + "a"), undefined);
  assert.ok(performance.now() - started < 5000);
});

Deno.test("J31 jwt provider ignores keys marked for encryption, 1024-bit RSA and e=1", async () => {
  const rsa1024 = await signingKey("RS256");
  const small = await crypto.subtle.generateKey(
    {
      name: "RSASSA-PKCS1-v1_5",
      modulusLength: 1024,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-256",
    },
    true,
    ["sign", "verify"],
  );
  const smallJwk = {
    ...(await crypto.subtle.exportKey("jwk", small.publicKey)),
    kid: "small",
  } as JWK;
  const enc = await signingKey("ES256");
  const ops = await signingKey("ES256");
  await using server = startJwksServer([
    ES256.jwk,
    { ...enc.jwk, use: "enc" },
    { ...ops.jwk, key_ops: ["encrypt"] },
    smallJwk,
    { ...rsa1024.jwk, kid: "e1", e: "AQ" },
  ]);
  const p = await provider(server.uri);
  assert.equal(
    (await check(p, await signToken(ES256)))?.username,
    "alice",
    "the good key still works",
  );
  assert.equal(await check(p, await signToken(enc)), undefined, "use: enc");
  assert.equal(await check(p, await signToken(ops)), undefined, "key_ops: encrypt");
  const smallToken = await signToken({
    alg: "RS256",
    kid: "small",
    secret: small.privateKey,
    jwk: smallJwk,
  })
    .catch(() => undefined);
  if (smallToken) assert.equal(await check(p, smallToken), undefined, "1024-bit RSA");
  assert.equal(await check(p, await signToken({ ...rsa1024, kid: "e1" })), undefined, "e = 1");
});

Deno.test("J18/J33 a token of realm A's provider is refused when X-Auth-Realm names realm B", async () => {
  const keyA = await signingKey("ES256");
  const keyB = await signingKey("ES256");
  await using jwksA = startJwksServer([keyA.jwk]);
  await using jwksB = startJwksServer([keyB.jwk]);
  await using gw = await startGateway(bearerConfig(`  - type: jwt
    name: idp-a
    realm: realm-a
    cert_uri: ${jwksA.uri}
    issuer: https://a.example
  - type: jwt
    name: idp-b
    realm: realm-b
    cert_uri: ${jwksB.uri}
    issuer: https://b.example`));
  const tokenB = await signToken(keyB, baseClaims({ iss: "https://b.example" }));
  assert.equal((await authenticateBearer(gw, tokenB, "realm-a")).status, 401);
  const ok = await authenticateBearer(gw, tokenB, "realm-b");
  assert.equal(ok.status, 200);
  assert.equal(ok.claims?.realm, "realm-b");
  // B's issuer with a valid signature of A's key: refused by A's exact issuer check.
  const mixed = await signToken(keyA, baseClaims({ iss: "https://b.example" }));
  assert.equal((await authenticateBearer(gw, mixed)).status, 401);
  for (const iss of ["https://a.example/", "HTTPS://A.EXAMPLE"]) {
    assert.equal(
      (await authenticateBearer(gw, await signToken(keyA, baseClaims({ iss })))).status,
      401,
    );
  }
});

Deno.test("J30 a hostile sub never breaks a response header: 200 with encoded legacy headers", async () => {
  const key = await signingKey("ES256");
  await using server = startJwksServer([key.jwk]);
  await using gw = await startGateway(
    bearerConfig(`  - type: jwt
    name: idp
    realm: r
    cert_uri: ${server.uri}`) + "\ninclude_legacy_headers: true\n",
  );
  for (
    const sub of [
      "alice\r\nX-Admin: 1",
      "a\u0000b",
      "\u202eeve",
      "用户",
      "x".repeat(100 * 1024 / 8),
    ]
  ) {
    const token = await signToken(key, baseClaims({ sub }));
    const { res } = await gw.request("/authenticate", {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.ok(
      res.status === 200 || res.status === 401,
      `${res.status} for ${JSON.stringify(sub.slice(0, 20))}`,
    );
    assert.equal(res.headers.get("x-admin"), null);
    const user = res.headers.get("x-auth-username");
    if (user !== null) assert.match(user, /^[\x20-\x7e]*$/);
  }
});
