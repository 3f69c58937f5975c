/**
 * Wycheproof JOSE vectors (tests/security/wycheproof/) run through the `jwt`
 * provider's real verification path: a real JWKS endpoint serves the
 * vector's key, and the provider (pre-check, algorithm allowlist, `kid`,
 * key-set snapshot, jose signature check, claim checks) judges the token.
 *
 * Accounting (also in docs/security.md). The vectors' payloads are not JWT
 * claims, so a valid vector can at best reach the claim checks; the
 * provider's debug reason tells how far it got:
 * - `signature ok`: the signature verified and only the claims refused it;
 * - `rejected`: refused before or by the signature check, or the key set was refused.
 * A **valid** vector passes when its signature verified; it is an **expected
 * rejection** when the gateway's policy refuses it on purpose (HS256/HS384 and
 * `none` are never accepted, a `kid` is required, only the compact form is
 * parsed). An **invalid** vector passes when it is rejected. Two invalid
 * vectors are skipped: tc367 and tc370 are byte-identical to the valid token
 * of their group (upstream data errors).
 *
 * @module
 */

import assert from "node:assert/strict";
import type { JWK } from "jose";
import jwt from "../../providers/jwt.ts";
import { SUPPORTED_ALGORITHMS } from "../../providers/_shared/access_token_options.ts";
import { UpstreamUnavailableError } from "../../lib/plugin.ts";
import { captureLogger, pluginContext, verdict } from "../support/plugin_context.ts";
import { startJwksServer } from "../support/jwks_server.ts";

interface Vector {
  readonly tcId: number;
  readonly comment: string;
  readonly jws: unknown;
  readonly result: "valid" | "invalid" | "acceptable";
}

interface Group {
  readonly comment: string;
  readonly private?: JWK | { keys: JWK[] };
  readonly public?: JWK | { keys: JWK[] };
  readonly tests: readonly Vector[];
}

/** Debug reasons logged only after the signature verified. */
const CLAIM_STAGE =
  /^(payload is not a JSON object|exp |expired|iat |issued |lifetime |nbf|not yet|unexpected |sub |scope |malformed roles)/;
const SKIPPED: Record<number, string> = {
  367: "byte-identical to the valid token of its group (upstream data error)",
  370: "byte-identical to the valid token of its group (upstream data error)",
};
const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi"];

function publicSet(group: Group): JWK[] {
  const key = group.public ?? group.private!;
  const keys = "keys" in key ? key.keys : [key as JWK];
  return keys.map((jwk) =>
    jwk.kty === "oct"
      ? jwk
      : Object.fromEntries(Object.entries(jwk).filter(([k]) => !PRIVATE_MEMBERS.includes(k)))
  );
}

/** Why the gateway refuses a valid vector on purpose, or `undefined`. */
function policyRefusal(group: Group, jws: unknown): string | undefined {
  if (typeof jws !== "string") return "JSON serialization (only the compact form is parsed)";
  const [h, payload] = jws.split(".");
  if (!/^[A-Za-z0-9_.-]*$/.test(jws)) return "character outside base64url (strict pre-check)";
  if (payload === "") return "empty payload (a JWT carries claims)";
  const header = JSON.parse(atob(h.replaceAll("-", "+").replaceAll("_", "/")));
  if (!SUPPORTED_ALGORITHMS.includes(String(header.alg))) return `alg ${header.alg} never accepted`;
  if (typeof header.kid !== "string") return "no kid";
  const key = publicSet(group).find((k) => k.kid === header.kid);
  if (key?.alg !== undefined && key.alg !== header.alg) {
    return "the key's alg differs from the token's (RFC 7517 section 4.4)";
  }
  return undefined;
}

/**
 * Invalid vectors the gateway accepts, on purpose and documented in
 * docs/security.md: it does not fingerprint IdP RSA keys for ROCA, and it
 * serves `oct` keys of any length for HS512 (spec 5.2; ECMWF's own fixtures
 * use a 24-byte key). The test fails if this list changes either way.
 */
const KNOWN_DEVIATIONS = [
  "json_web_key_test.json tc7 rejectsKeyWithRocaVulnerability",
  "json_web_key_test.json tc12 key_too_short",
];

type Verdict = "signature ok" | "rejected";

async function judge(group: Group, vector: Vector): Promise<{ verdict: Verdict; why: string }> {
  await using server = startJwksServer(publicSet(group));
  const log = captureLogger();
  const options = jwt.parseOptions!({
    cert_uri: server.uri,
    algorithms: [...SUPPORTED_ALGORITHMS],
  });
  const provider = await jwt.create(options, pluginContext("wycheproof", "test", log));
  try {
    const token = typeof vector.jws === "string" ? vector.jws : JSON.stringify(vector.jws);
    const user = await verdict(provider, token);
    const reason = String(log.lines.at(-1)?.attributes?.reason ?? "pre-check");
    if (user !== undefined) return { verdict: "signature ok", why: "accepted" };
    return { verdict: CLAIM_STAGE.test(reason) ? "signature ok" : "rejected", why: reason };
  } catch (error) {
    if (error instanceof UpstreamUnavailableError) {
      return { verdict: "rejected", why: "key set refused" };
    }
    throw error;
  } finally {
    await provider[Symbol.asyncDispose]?.();
  }
}

interface Counts {
  validPassed: number;
  validPolicy: number;
  invalidPassed: number;
  skipped: number;
  deviations: string[];
  failed: string[];
}

async function run(file: string): Promise<Counts> {
  const data = JSON.parse(
    await Deno.readTextFile(new URL(`./wycheproof/${file}`, import.meta.url)),
  );
  const counts: Counts = {
    validPassed: 0,
    validPolicy: 0,
    invalidPassed: 0,
    skipped: 0,
    deviations: [],
    failed: [],
  };
  for (const group of data.testGroups as Group[]) {
    for (const vector of group.tests) {
      if (SKIPPED[vector.tcId]) {
        counts.skipped++;
        continue;
      }
      const { verdict, why } = await judge(group, vector);
      const label =
        `tc${vector.tcId} ${vector.result} ${vector.comment} (${group.comment}): ${why}`;
      if (vector.result === "invalid") {
        if (verdict === "rejected") counts.invalidPassed++;
        else if (KNOWN_DEVIATIONS.includes(`${file} tc${vector.tcId} ${vector.comment}`)) {
          counts.deviations.push(label);
        } else counts.failed.push(label);
      } else if (verdict === "signature ok") {
        counts.validPassed++;
      } else if (policyRefusal(group, vector.jws)) {
        counts.validPolicy++;
      } else {
        counts.failed.push(label);
      }
    }
  }
  const total = counts.validPassed + counts.validPolicy + counts.invalidPassed + counts.skipped +
    counts.deviations.length + counts.failed.length;
  assert.equal(total, data.numberOfTests);
  Deno.stderr.writeSync(new TextEncoder().encode(
    `WYCHEPROOF ${file}: ${total} vectors; valid verified ${counts.validPassed}, ` +
      `valid refused by policy ${counts.validPolicy}, invalid rejected ${counts.invalidPassed}, ` +
      `skipped ${counts.skipped}, invalid accepted (known deviations) ${counts.deviations.length}, ` +
      `failed ${counts.failed.length}\n`,
  ));
  return counts;
}

Deno.test("jwt provider meets every Wycheproof JWS vector (json_web_signature_test)", async () => {
  const counts = await run("json_web_signature_test.json");
  assert.deepEqual(counts.failed, []);
  assert.deepEqual(counts.deviations, []);
});

Deno.test("jwt provider meets every Wycheproof JWK vector (json_web_key_test)", async () => {
  const counts = await run("json_web_key_test.json");
  assert.deepEqual(counts.failed, []);
  assert.equal(counts.deviations.length, KNOWN_DEVIATIONS.length, counts.deviations.join("\n"));
});
