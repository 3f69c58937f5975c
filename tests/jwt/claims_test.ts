import assert from "node:assert/strict";
import { decodeJwt, decodeProtectedHeader, jwtVerify } from "jose";
import { startGateway } from "../support/gateway.ts";
import { issue, jwtConfig, PLAIN_PROVIDER, SECRET } from "./keys.ts";

const ORIGINAL_CLAIMS = [
  "sub",
  "iss",
  "exp",
  "iat",
  "roles",
  "username",
  "scopes",
  "realm",
  "attributes",
];

/**
 * `decode_jwt` of authotron-client (spec 7.3): HS256 only, 5 s leeway, `exp`
 * required, `aud`/`iss` unchecked, `username`/`realm` required, roles as a
 * set plus `default`, non-string attributes rendered as compact JSON.
 */
async function clientDecode(token: string, secret: string) {
  const { payload } = await jwtVerify(token, new TextEncoder().encode(secret), {
    algorithms: ["HS256"],
    clockTolerance: 5,
    requiredClaims: ["exp"],
  });
  if (typeof payload.username !== "string" || typeof payload.realm !== "string") {
    throw new Error("InvalidJwt: missing username or realm");
  }
  const attributes = Object.fromEntries(
    Object.entries((payload.attributes ?? {}) as Record<string, unknown>)
      .map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
  );
  return {
    version: 1,
    username: payload.username,
    realm: payload.realm,
    roles: new Set([...(payload.roles as string[] ?? []), "default"]),
    attributes,
    scopes: payload.scopes ?? {},
  };
}

Deno.test("claimsFor() adds aud (jwt.audience), nbf and jti only when configured, after the original claims", async () => {
  await using gw = await startGateway(
    jwtConfig(
      `  exp: 300\n  secret: ${SECRET}\n  audience: [backend-a, backend-b]\n  include_jti: true\n  include_nbf: true\n`,
      PLAIN_PROVIDER,
    ),
  );
  const [first, second] = [await issue(gw.url), await issue(gw.url)];
  const payload = decodeJwt(first);
  assert.deepEqual(Object.keys(payload), [...ORIGINAL_CLAIMS, "aud", "nbf", "jti"]);
  assert.deepEqual(payload.aud, ["backend-a", "backend-b"]);
  assert.equal(payload.nbf, payload.iat);
  assert.match(payload.jti!, /^[0-9a-f-]{36}$/);
  assert.notEqual(payload.jti, decodeJwt(second).jti, "jti is random per token");
  await jwtVerify(first, new TextEncoder().encode(SECRET), { audience: "backend-b" });
  await assert.rejects(
    jwtVerify(first, new TextEncoder().encode(SECRET), { audience: "other" }),
    /aud/,
  );
});

Deno.test("claimsFor() keeps a single jwt.audience a string and adds nothing else", async () => {
  await using gw = await startGateway(
    jwtConfig(`  exp: 300\n  secret: ${SECRET}\n  audience: my-api\n`, PLAIN_PROVIDER),
  );
  const payload = decodeJwt(await issue(gw.url));
  assert.deepEqual(Object.keys(payload), [...ORIGINAL_CLAIMS, "aud"]);
  assert.equal(payload.aud, "my-api");
});

Deno.test("authotron-client decode (spec 7.3) still accepts the HS256 token with its kid", async () => {
  await using gw = await startGateway(
    jwtConfig(`  exp: 300\n  secret: ${SECRET}\n  aud: ignored-by-the-client\n`, PLAIN_PROVIDER),
  );
  const token = await issue(gw.url);
  assert.equal(decodeProtectedHeader(token).kid, gw.gateway.issuer.kid);
  const user = await clientDecode(token, SECRET);
  assert.equal(user.username, "adam");
  assert.equal(user.realm, "ecmwf");
  assert.deepEqual(user.roles, new Set(["user", "default"]));
  assert.deepEqual(user.scopes, {});
  await assert.rejects(clientDecode(token, "another-secret-that-is-long-enough"));
});

Deno.test("jwt.aud is ignored as in auth-o-tron: no aud claim, one startup warning", async () => {
  for (const aud of ["my-api", "[backend-a, backend-b]", "[]", "{ odd: value }"]) {
    await using gw = await startGateway(
      jwtConfig(`  exp: 300\n  secret: ${SECRET}\n  aud: ${aud}\n`, PLAIN_PROVIDER),
    );
    const payload = decodeJwt(await issue(gw.url));
    assert.deepEqual(Object.keys(payload), ORIGINAL_CLAIMS, aud);
    await issue(gw.url);
    const warnings = gw.logs.filter((line) => line.includes("startup.jwt.aud_ignored"));
    assert.equal(warnings.length, 1, gw.logs.join("\n"));
    assert.match(warnings[0]!, /jwt\.audience/);
  }
  await using both = await startGateway(
    jwtConfig(`  exp: 300\n  secret: ${SECRET}\n  aud: old\n  audience: new\n`, PLAIN_PROVIDER),
  );
  assert.equal(
    decodeJwt(await issue(both.url)).aud,
    "new",
    "jwt.audience wins; jwt.aud is ignored",
  );
  await using quiet = await startGateway(
    jwtConfig(`  exp: 300\n  secret: ${SECRET}\n`, PLAIN_PROVIDER),
  );
  assert.ok(!quiet.logs.join("\n").includes("startup.jwt.aud_ignored"));
});

Deno.test("warnAboutJwt() warns about lifetimes over one hour and weak HS256 secrets only", async () => {
  {
    await using gw = await startGateway(
      jwtConfig(`  exp: 3601\n  secret: short\n`, PLAIN_PROVIDER),
    );
    const text = gw.logs.join("\n");
    assert.ok(text.includes("startup.jwt.long_lifetime"), text);
    assert.ok(text.includes("startup.jwt.weak_secret"), text);
    assert.ok(!text.includes(": short") && !text.includes('"short"'), "the secret is never logged");
  }
  await using quiet = await startGateway(
    jwtConfig(`  exp: 3600\n  secret: ${SECRET}\n`, PLAIN_PROVIDER),
  );
  const text = quiet.logs.join("\n");
  assert.ok(!text.includes("startup.jwt.long_lifetime"));
  assert.ok(!text.includes("startup.jwt.weak_secret"));
});
