/**
 * HS256 tokens are signed synchronously with a precomputed HMAC instead of
 * jose + WebCrypto: they must be byte for byte what jose signs (same header,
 * same claims in the same order, same encoding, same signature).
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { SignJWT } from "jose";
import { loadConfig } from "../../lib/config/load.ts";
import { base64urlText, claimsFor, createTokenIssuer } from "../../lib/jwt/issuer.ts";
import { loadJwtKeys } from "../../lib/jwt/keys.ts";
import type { ResolvedUser } from "../../lib/plugin.ts";
import { decodeBasicCredential, timingSafeEqual } from "../../lib/plugin.ts";
import { testConfig } from "../support/gateway.ts";

const SECRET = "test-secret-that-is-long-enough-32b";

async function hs256Setup(extraJwt = "") {
  const dir = await Deno.makeTempDir({ prefix: "aot-hs256-" });
  try {
    const yaml = testConfig("providers: []").replace(
      "jwt: { iss: authotron-test, exp: 3600, secret: test-secret-that-is-long-enough-32b }",
      `jwt: { iss: authotron-test, exp: 3600, secret: ${SECRET}${extraJwt} }`,
    );
    await Deno.writeTextFile(`${dir}/config.yaml`, yaml);
    const config = await loadConfig(`${dir}/config.yaml`, {});
    const keys = await loadJwtKeys(config, {});
    return { config, signer: keys.signer };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const userArb: fc.Arbitrary<ResolvedUser> = fc.record({
  version: fc.constant(1 as const),
  username: fc.string({ minLength: 1, unit: "grapheme" }),
  realm: fc.string({ minLength: 1 }),
  roles: fc.array(fc.string({ unit: "grapheme" })),
  scopes: fc.dictionary(fc.string(), fc.array(fc.string())),
  attributes: fc.dictionary(fc.string({ unit: "grapheme" }), fc.string({ unit: "grapheme" })),
}) as fc.Arbitrary<ResolvedUser>;

Deno.test("HS256 tokens are byte-identical to jose's for any user", async () => {
  const { config, signer } = await hs256Setup(", include_nbf: true, aud: [api, web]");
  assert.ok(signer.hmac, "HS256 signs with the precomputed HMAC");
  const issuer = createTokenIssuer(config.jwt, signer);
  await fc.assert(
    fc.asyncProperty(userArb, fc.integer({ min: 0, max: 2 ** 31 }), async (user, now) => {
      const ours = await issuer.issue(user, now);
      const jose = await new SignJWT(claimsFor(user, config.jwt, now))
        .setProtectedHeader({ typ: "JWT", alg: "HS256", kid: signer.kid })
        .sign(new TextEncoder().encode(SECRET));
      assert.equal(ours, jose);
    }),
    { numRuns: 300 },
  );
});

Deno.test("HS256 signs a payload larger than the short-input encoder's limit", async () => {
  const { config, signer } = await hs256Setup();
  const issuer = createTokenIssuer(config.jwt, signer);
  const user: ResolvedUser = {
    version: 1,
    username: "big",
    realm: "r",
    roles: Array.from({ length: 5000 }, (_, i) => `role-${i}-é`),
    scopes: {},
    attributes: {},
  };
  const jose = await new SignJWT(claimsFor(user, config.jwt, 1000))
    .setProtectedHeader({ typ: "JWT", alg: "HS256", kid: signer.kid })
    .sign(new TextEncoder().encode(SECRET));
  assert.equal(await issuer.issue(user, 1000), jose);
  assert.equal(base64urlText("\u00ff\u00fe"), "w7_Dvg");
});

Deno.test("timingSafeEqual and decodeBasicCredential: ASCII fast paths agree with UTF-8 bytes", () => {
  fc.assert(
    fc.property(fc.string({ unit: "grapheme" }), fc.string({ unit: "grapheme" }), (a, b) => {
      const bytes = (s: string) => new TextEncoder().encode(s);
      assert.equal(timingSafeEqual(a, b), timingSafeEqual(bytes(a), bytes(b)));
      assert.equal(timingSafeEqual(a, a), true);
      const colon = a.indexOf(":");
      const expected = a === "" || colon === 0
        ? undefined
        : colon < 0
        ? { username: a, password: "" }
        : { username: a.slice(0, colon), password: a.slice(colon + 1) };
      const encoded = btoa(String.fromCharCode(...bytes(a)));
      assert.deepEqual(decodeBasicCredential(encoded), expected);
    }),
    { numRuns: 500 },
  );
  // Invalid UTF-8 is still refused, and a non-canonical base64 too.
  assert.equal(decodeBasicCredential(btoa("\xff\xfe:x")), undefined);
  assert.deepEqual(decodeBasicCredential("YQ=="), { username: "a", password: "" });
  assert.equal(decodeBasicCredential("YR=="), undefined);
});

Deno.test("TokenIssuer.expiry() is the exp claim issue() signs, exp attributes included", async () => {
  const { config, signer } = await hs256Setup();
  const issuer = createTokenIssuer(config.jwt, signer);
  const expAttribute = fc.oneof(
    fc.constant(undefined),
    fc.integer({ min: 0, max: 2 ** 31 }).map(String),
    fc.constantFrom("soon", "1.5", "+12", "-3"),
  );
  await fc.assert(
    fc.asyncProperty(
      userArb,
      expAttribute,
      fc.integer({ min: 0, max: 2 ** 31 }),
      async (u, exp, now) => {
        const user = {
          ...u,
          attributes: exp === undefined ? u.attributes : { ...u.attributes, exp },
        };
        const token = await issuer.issue(user, now);
        const payload = JSON.parse(
          new TextDecoder().decode(
            Uint8Array.from(
              atob(token.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/")),
              (c) => c.charCodeAt(0),
            ),
          ),
        );
        assert.equal(issuer.expiry(user, now), payload.exp);
      },
    ),
    { numRuns: 300 },
  );
});
