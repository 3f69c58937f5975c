/**
 * Property-based tests (fast-check, fixed seed): the credential parsers and
 * the whole `/authenticate` handler never throw or answer 5xx, accept only
 * canonical base64, and refuse any single-byte change to a valid credential.
 * Run counts are printed as `PROPERTY <name>: <runs> runs`.
 *
 * @module
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { parseAuthorization } from "../../lib/auth/credentials.ts";
import { decodeBasicCredential } from "../../lib/plugin.ts";
import { basicAuth, startGateway } from "../support/gateway.ts";
import { bearerConfig } from "../support/bearer.ts";
import { signingKey, signToken, startJwksServer } from "../support/jwks_server.ts";

const SEED = 20260901;

function reportRuns(name: string, runs: number): void {
  Deno.stderr.writeSync(new TextEncoder().encode(`PROPERTY ${name}: ${runs} runs\n`));
}

async function check<T>(
  name: string,
  property: fc.IAsyncProperty<T> | fc.IProperty<T>,
  runs: number,
) {
  await fc.assert(property as fc.IAsyncProperty<T>, { seed: SEED, numRuns: runs });
  reportRuns(name, runs);
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_ \t:.,";
const b64ish = fc.string({ unit: fc.constantFrom(...B64), maxLength: 64 });
const anyText = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: "binary", maxLength: 100 }),
  b64ish,
);

Deno.test("parseAuthorization() never throws and keeps its limits (property)", async () => {
  await check(
    "parseAuthorization never throws",
    fc.property(fc.option(anyText, { nil: undefined }), (value) => {
      const parsed = parseAuthorization(value);
      if (parsed.ok) {
        assert.ok(parsed.credentials.size >= 1 && parsed.credentials.size <= 3);
        for (const [scheme, credential] of parsed.credentials) {
          assert.ok(scheme !== "" && credential !== "" && !/\s/.test(credential + scheme));
        }
      }
    }),
    5000,
  );
});

Deno.test("decodeBasicCredential() never throws and accepts only canonical base64 (property)", async () => {
  await check(
    "decodeBasicCredential canonical only",
    fc.property(
      fc.oneof(
        anyText,
        fc.uint8Array({ maxLength: 48 }).map((b) => btoa(String.fromCharCode(...b))),
      ),
      (text) => {
        const decoded = decodeBasicCredential(text);
        if (decoded === undefined) return;
        const plain = decoded.username +
          (text.length && atob(text).includes(":") ? ":" + decoded.password : "");
        const bytes = new TextEncoder().encode(plain);
        assert.equal(btoa(String.fromCharCode(...bytes)), text, "re-encoding gives the input back");
      },
    ),
    5000,
  );
});

const KEY = await signingKey("ES256");

async function gateway(jwksUri: string) {
  return await startGateway(bearerConfig(`  - type: plain
    name: local
    realm: local
    users:
      - { username: alice, password: "s3cret:pw" }
  - type: jwt
    name: idp
    realm: idp
    cert_uri: ${jwksUri}`));
}

/** Any value `Headers` accepts: visible ASCII, Latin-1 and tabs, or a structured credential. */
const headerValue = fc.oneof(
  fc.string({
    unit: fc.integer({ min: 0x20, max: 0xff }).map((c) => String.fromCharCode(c)),
    maxLength: 300,
  }),
  fc.tuple(fc.constantFrom("Basic", "Bearer", "basic", "Plain", "Token", ""), b64ish).map((
    [s, c],
  ) => `${s} ${c}`),
  fc.array(fc.tuple(fc.constantFrom("Basic", "Bearer"), b64ish), { maxLength: 5 })
    .map((parts) => parts.map(([s, c]) => `${s} ${c}`).join(", ")),
);

Deno.test("/authenticate never throws or answers 5xx for any header values (property)", async () => {
  await using jwks = startJwksServer([KEY.jwk]);
  await using gw = await gateway(jwks.uri);
  const handler = gw.gateway.appHandler;
  await check(
    "/authenticate never 5xx",
    fc.asyncProperty(
      headerValue,
      fc.option(headerValue, { nil: undefined }),
      async (auth, realm) => {
        const headers = new Headers();
        headers.set("authorization", auth);
        if (realm !== undefined) headers.set("x-auth-realm", realm);
        const res = await handler(new Request("http://gw/authenticate", { headers }));
        await res.body?.cancel();
        assert.ok(res.status === 200 || res.status === 401, `status ${res.status}`);
        if (res.status === 200) assert.match(res.headers.get("authorization")!, /^Bearer /);
      },
    ),
    3000,
  );
});

Deno.test("/authenticate refuses any single-byte change to a valid Basic credential or JWT (property)", async () => {
  await using jwks = startJwksServer([KEY.jwk]);
  await using gw = await gateway(jwks.uri);
  const handler = gw.gateway.appHandler;
  const call = async (authorization: string) => {
    const res = await handler(
      new Request("http://gw/authenticate", { headers: { authorization } }),
    );
    await res.body?.cancel();
    return res.status;
  };
  const basic = basicAuth("alice:s3cret:pw").slice("Basic ".length);
  const token = await signToken(KEY);
  assert.equal(await call(`Basic ${basic}`), 200);
  assert.equal(await call(`Bearer ${token}`), 200);
  const VISIBLE = fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c));
  for (const [scheme, credential] of [["Basic", basic], ["Bearer", token]] as const) {
    await check(
      `single-byte change to a valid ${scheme} credential`,
      fc.asyncProperty(fc.nat({ max: credential.length - 1 }), VISIBLE, async (at, byte) => {
        fc.pre(credential[at] !== byte && byte !== ",");
        const mutated = credential.slice(0, at) + byte + credential.slice(at + 1);
        assert.equal(await call(`${scheme} ${mutated}`), 401, mutated);
      }),
      2000,
    );
  }
});
