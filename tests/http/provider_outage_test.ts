/**
 * One identity provider's outage stays its own (issue 17): two `jwt`
 * providers on two real JWKS servers, B's answering 500. Tokens that A
 * definitively rejects, or that B can judge without its keys, get 401; only a
 * token B might still accept gets 503. The same holds for an exchange
 * provider (`ecmwf-token-generator`) whose exchanged access token is rejected.
 */
import assert from "node:assert/strict";
import { startGateway } from "../support/gateway.ts";
import { authenticateBearer, bearerConfig } from "../support/bearer.ts";
import { json, startIdentityUpstream } from "../support/identity_upstream.ts";
import {
  baseClaims,
  rawToken,
  type SigningKey,
  signingKey,
  signToken,
  startJwksServer,
} from "../support/jwks_server.ts";

const A_RSA = await signingKey("RS256", "a-rsa");
const A_HS512 = await signingKey("HS512", "a-hs512");
const IMPOSTOR = await signingKey("RS256", "a-rsa"); // A's kid, another key
const UNKNOWN = await signingKey("RS256", "nobody-knows-me");
const NOW = () => Math.floor(Date.now() / 1000);

function jwtEntry(name: string, certUri: string, extra = ""): string {
  return `  - type: jwt
    name: ${name}
    realm: ${name.toLowerCase()}
    cert_uri: ${certUri}
${extra}`;
}

/** Gateway with A (healthy) then B (JWKS answering 500); fetches B's JWKS once so it is failing. */
async function twoProviders(extraA = "", extraB = "") {
  const a = startJwksServer([A_RSA.jwk, A_HS512.jwk]);
  const b = startJwksServer([]);
  b.mode = "500";
  const gw = await startGateway(
    bearerConfig(jwtEntry("A", a.uri, extraA) + jwtEntry("B", b.uri, extraB), { timeoutMs: 2000 }),
  );
  return {
    gw,
    async [Symbol.asyncDispose]() {
      await gw[Symbol.asyncDispose]();
      await a[Symbol.asyncDispose]();
      await b[Symbol.asyncDispose]();
    },
  };
}

const status = async (gw: Parameters<typeof authenticateBearer>[0], token: string) =>
  (await authenticateBearer(gw, token)).status;

Deno.test("B's JWKS down: tokens A rejects as its own, or B can judge locally, get 401; A's good token 200", async () => {
  await using env = await twoProviders();
  const { gw } = env;
  assert.equal(await status(gw, await signToken(A_RSA)), 200, "A still accepts");
  const cases: [string, string][] = [
    ["expired, A's kid", await signToken(A_RSA, baseClaims({ exp: NOW() - 3600 }))],
    ["no sub, A's kid", await signToken(A_RSA, { scope: "read", exp: NOW() + 600 })],
    ["no scope, A's kid", await signToken(A_RSA, { sub: "alice", exp: NOW() + 600 })],
    [
      "HS512 with A's RSA kid",
      await signToken({ ...A_HS512, kid: A_RSA.kid } as SigningKey),
    ],
    ["signature not matching A's key for its kid", await signToken(IMPOSTOR)],
    ["expired, a kid nobody knows", await signToken(UNKNOWN, baseClaims({ exp: NOW() - 3600 }))],
    ["no kid", rawToken({ alg: "RS256" }, baseClaims(), "c2ln")],
    ["HS256 (never allowed)", rawToken({ alg: "HS256", kid: "x" }, baseClaims(), "c2ln")],
    ["not a JWT", "definitely-not-a-jwt"],
  ];
  for (const [label, token] of cases) {
    const result = await authenticateBearer(gw, token);
    assert.equal(result.status, 401, label);
    assert.equal(result.retryAfter, null, label);
  }
});

Deno.test("B's JWKS down: only a token B might still accept (a kid no healthy provider knows) gets 503", async () => {
  await using env = await twoProviders();
  const result = await authenticateBearer(env.gw, await signToken(UNKNOWN));
  assert.equal(result.status, 503);
  assert.ok(result.retryAfter !== null);
  assert.equal((await authenticateBearer(env.gw, await signToken(UNKNOWN), "a")).status, 401);
});

Deno.test("B's JWKS down, issuers configured: iss decides whose token it is", async () => {
  await using env = await twoProviders(
    "    issuer: https://a.example\n",
    "    issuer: https://b.example\n",
  );
  const forA = await signToken(UNKNOWN, baseClaims({ iss: "https://a.example" }));
  assert.equal(await status(env.gw, forA), 401, "A's issuer, a kid A does not have: A's own");
  const forB = await signToken(UNKNOWN, baseClaims({ iss: "https://b.example" }));
  assert.equal(await status(env.gw, forB), 503, "B's issuer: only B can tell");
  const neither = await signToken(UNKNOWN, baseClaims({ iss: "https://c.example" }));
  assert.equal(await status(env.gw, neither), 401, "B refuses a foreign iss without its keys");
});

Deno.test("B hangs past the timeout: A's own rejection is still 401 once the race ends", async () => {
  await using a = startJwksServer([A_RSA.jwk]);
  await using b = startJwksServer([]);
  b.mode = "hang";
  await using gw = await startGateway(
    bearerConfig(
      jwtEntry("A", a.uri) + jwtEntry("B", b.uri, "    jwks_timeout_s: 0.5\n"),
      { timeoutMs: 300 },
    ),
  );
  assert.equal(await status(gw, await signToken(IMPOSTOR)), 401);
  assert.equal(await status(gw, await signToken(UNKNOWN)), 503);
});

/** An exchange provider entry, and the upstream paths it calls. */
const EXCHANGE_PROVIDERS = {
  "ecmwf-token-generator": {
    entry: (url: string) =>
      `    client_id: polytope\n    client_secret: polytope-secret\n    token_generator_url: ${url}\n`,
    check: "/validate-token",
    checkAnswer: { active: true },
    exchange: "/admin/refresh-access-token",
  },
  "openid-offline": {
    entry: (url: string) =>
      `    iam_url: ${url}\n    public_client_id: pub\n    private_client_id: priv\n    private_client_secret: s\n`,
    check: "/realms/ecmwf/protocol/openid-connect/token/introspect",
    checkAnswer: { active: true, scope: "openid offline_access" },
    exchange: "/realms/ecmwf/protocol/openid-connect/token",
  },
};

for (const [type, flavour] of Object.entries(EXCHANGE_PROVIDERS)) {
  Deno.test(`${type}: an exchanged access token it rejects is a 401 while another JWKS is down`, async () => {
    const access = await signingKey("RS256", "generator-key");
    const offline = await signingKey("RS256", "offline-key");
    let handOut = "";
    await using idp = startIdentityUpstream((req) => {
      if (req.path === "/certs") return json({ keys: [access.jwk] });
      if (req.path === flavour.check) return json(flavour.checkAnswer);
      if (req.path === flavour.exchange) return json({ access_token: handOut });
      return new Response(null, { status: 404 });
    });
    await using down = startJwksServer([]);
    down.mode = "500";
    await using gw = await startGateway(bearerConfig(
      `  - type: ${type}\n    name: Exchange\n    realm: ecmwf\n    cert_uri: ${idp.url}/certs\n` +
        flavour.entry(idp.url) + jwtEntry("B", down.uri),
      { timeoutMs: 2000 },
    ));
    // The presented offline token is a JWT that B could judge only with its keys.
    const presented = () => signToken(offline, baseClaims({ jti: crypto.randomUUID() }));
    handOut = await signToken(access);
    assert.equal(await status(gw, await presented()), 200);
    handOut = await signToken(access, baseClaims({ exp: NOW() - 3600 }));
    assert.equal(await status(gw, await presented()), 401, "expired access token");
    handOut = await signToken({ ...IMPOSTOR, kid: access.kid });
    assert.equal(await status(gw, await presented()), 401, "access token with a bad signature");
    handOut = await signToken(UNKNOWN);
    assert.equal(await status(gw, await presented()), 401, "access token with a kid it lacks");
  });
}

Deno.test("one provider name in two realms: the failing one is told apart as name@realm in /metrics and /status", async () => {
  await using a = startJwksServer([A_RSA.jwk]);
  await using b = startJwksServer([]);
  b.mode = "500";
  const entry = (realm: string, uri: string) =>
    `  - type: jwt\n    name: IdP\n    realm: ${realm}\n    cert_uri: ${uri}\n`;
  await using gw = await startGateway(bearerConfig(entry("a", a.uri) + entry("b", b.uri)));
  assert.equal(await status(gw, await signToken(UNKNOWN)), 503);
  const metrics = (await gw.request(`${gw.metricsUrl}/metrics`)).body;
  assert.match(metrics, /authotron_upstream_failures_total\{kind="5xx",provider_name="IdP@b"\} 1/);
  assert.doesNotMatch(metrics, /authotron_upstream_failures_total\{[^}]*provider_name="IdP@a"/);
  const plugins = JSON.parse((await gw.request(`${gw.metricsUrl}/status`)).body).plugins;
  const failing = plugins.find((p: { name: string }) => p.name === "IdP@b");
  assert.match(failing.last_error.message, /JWKS/);
  assert.equal(plugins.find((p: { name: string }) => p.name === "IdP@a").last_error, null);
});
