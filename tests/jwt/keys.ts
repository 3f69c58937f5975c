/**
 * Test key material: fresh key pairs as PEM and JWK text, a gateway config
 * that signs with them, and the token such a gateway issues.
 *
 * @module
 */

import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { basicAuth, testConfig } from "../support/gateway.ts";

/** The HMAC secret the tests write into `jwt.secret` (long enough for HS256). */
export const SECRET = "test-secret-that-is-long-enough-32b";

/** A key pair as the texts a config can hold. */
export interface TestKey {
  /** PKCS#8 PEM of the private key. */
  readonly privatePem: string;
  /** SPKI PEM of the public key. */
  readonly publicPem: string;
  /** The private key as JWK JSON text. */
  readonly privateJwk: string;
}

/** Key types by the algorithm they sign. */
export type KeyKind = "EdDSA" | "ES256" | "RS256" | "RSA1024" | "P384";

/** Generates a fresh key pair. */
export function generateKey(kind: KeyKind): TestKey {
  const pair = kind === "EdDSA"
    ? generateKeyPairSync("ed25519")
    : kind === "ES256" || kind === "P384"
    ? generateKeyPairSync("ec", { namedCurve: kind === "ES256" ? "P-256" : "P-384" })
    : generateKeyPairSync("rsa", { modulusLength: kind === "RS256" ? 2048 : 1024 });
  return {
    privatePem: pair.privateKey.export({ format: "pem", type: "pkcs8" }) as string,
    publicPem: pair.publicKey.export({ format: "pem", type: "spki" }) as string,
    privateJwk: JSON.stringify(pair.privateKey.export({ format: "jwk" })),
  };
}

/** A test config whose `jwt` section is `jwt` (YAML lines, indented two spaces). */
export function jwtConfig(jwt: string, extra = ""): string {
  return testConfig(extra).replace(
    `jwt: { iss: authotron-test, exp: 3600, secret: ${SECRET} }`,
    `jwt:\n  iss: authotron-test\n${jwt}`,
  );
}

/** A plain provider with user `adam:admin` in realm `ecmwf`. */
export const PLAIN_PROVIDER = `providers:
  - name: local
    type: plain
    realm: ecmwf
    users:
      - { username: adam, password: admin, roles: [user] }
`;

/** The downstream JWT the gateway at `url` issues to `adam` ({@link PLAIN_PROVIDER}). */
export async function issue(url: string): Promise<string> {
  const res = await fetch(`${url}/authenticate`, {
    headers: { authorization: basicAuth("adam:admin") },
  });
  await res.body?.cancel();
  assert.equal(res.status, 200);
  return res.headers.get("authorization")!.slice("Bearer ".length);
}
