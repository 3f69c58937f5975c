/**
 * Secret-leak case for the `jwt` provider, with the gateway signing its own
 * JWTs with an Ed25519 private key (`jwt.algorithm: EdDSA`): received JWTs of
 * three algorithms, the HMAC secret a JWKS publishes, the signing keys, and
 * the JWKS failures (500, timeout) that could quote a token.
 *
 * @module
 */

import { exportJWK } from "jose";
import { generateKey } from "../jwt/keys.ts";
import { baseClaims, signingKey, signToken, startJwksServer } from "../support/jwks_server.ts";
import { type LeakCase, pemLines, privateJwkMembers } from "./leak_case.ts";

const bearer = (token: string) => `Bearer ${token}`;

/** The `jwt:` section signing with `privatePem` (EdDSA). */
function eddsaJwtSection(privatePem: string): string {
  const indented = privatePem.trim().split("\n").map((l) => `        ${l}`).join("\n");
  return `jwt:
  iss: authotron-test
  exp: 3600
  algorithm: EdDSA
  keys:
    - kid: leak-ed25519
      private_key: |
${indented}`;
}

/** `jwt` against real JWKS endpoints (one healthy, one answering 500, one hanging). */
export const JWT_CASE: LeakCase = {
  name: "jwt provider (RS256/HS512/EdDSA tokens, JWKS 500 and timeout) + EdDSA signing key",
  covers: ["providers/jwt"],
  async setup() {
    const [rs, hs, ed] = await Promise.all(["RS256", "HS512", "EdDSA"].map((a) => signingKey(a)));
    const forger = await signingKey("RS256", rs.kid);
    const ok = startJwksServer([rs.jwk, hs.jwk, ed.jwk]);
    const broken = startJwksServer([rs.jwk]);
    broken.mode = "500";
    const slow = startJwksServer([rs.jwk]);
    slow.mode = "hang";
    const past = Math.floor(Date.now() / 1000) - 3600;
    const tokens = {
      rs: await signToken(rs),
      hs: await signToken(hs),
      ed: await signToken(ed),
      expired: await signToken(rs, baseClaims({ exp: past })),
      forged: await signToken(forger),
      unknownKid: await signToken(rs, baseClaims(), { kid: "not-in-the-set" }),
      noScope: await signToken(ed, { sub: "alice", exp: past + 7200 }),
    };
    const gatewayKey = generateKey("EdDSA");
    const provider = (realm: string, uri: string) => `
  - { type: jwt, name: IdP ${realm}, realm: ${realm}, cert_uri: "${uri}" }`;
    const privateMembers = await Promise.all(
      [rs, ed, forger].map(async (k) => privateJwkMembers(await exportJWK(k.secret))),
    );
    return {
      providers: provider("idp", ok.uri) + provider("broken", broken.uri) +
        provider("slow", slow.uri),
      jwt: eddsaJwtSection(gatewayKey.privatePem),
      steps: [
        { authorization: bearer(tokens.rs), realm: "idp", status: 200 },
        { authorization: bearer(tokens.hs), realm: "idp", status: 200 },
        { authorization: bearer(tokens.ed), realm: "idp", status: 200 },
        { authorization: bearer(tokens.rs), realm: "idp", status: 200 }, // from the token cache
        { authorization: bearer(tokens.expired), realm: "idp", status: 401 },
        { authorization: bearer(tokens.forged), realm: "idp", status: 401 },
        { authorization: bearer(tokens.unknownKid), realm: "idp", status: 401 },
        { authorization: bearer(tokens.noScope), realm: "idp", status: 401 },
        { authorization: bearer("eyJhbGciOiJub25lIn0.e30.not-a-jwt-sig-7c1d"), status: 401 },
        { authorization: bearer(tokens.ed), realm: "broken", status: 503 },
        { authorization: bearer(tokens.hs), realm: "slow", status: 503 },
      ],
      secrets: [
        ...Object.values(tokens),
        "not-a-jwt-sig-7c1d",
        ...privateJwkMembers(hs.jwk as Record<string, unknown>),
        ...privateMembers.flat(),
        ...pemLines(gatewayKey.privatePem),
        ...privateJwkMembers(JSON.parse(gatewayKey.privateJwk)),
      ],
      async [Symbol.asyncDispose]() {
        await Promise.all([ok, broken, slow].map((s) => s[Symbol.asyncDispose]()));
      },
    };
  },
};
