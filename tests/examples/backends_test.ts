/**
 * Runs the copy-paste examples of docs/backends.md against a real gateway:
 * the jose verifier, the PyJWT script (Debian's python3 with python3-jwt and
 * python3-cryptography) and the NGINX `auth_request_set` config.
 */

import assert from "node:assert/strict";
import { SignJWT } from "jose";
import { createVerifier } from "../../examples/backends/verify_jose.ts";
import { basicAuth, startGateway, type TestGateway } from "../support/gateway.ts";
import { nginxConfig, startNginx } from "../support/nginx.ts";
import { isCi, systemTest } from "../support/system.ts";
import { generateKey, jwtConfig, PLAIN_PROVIDER } from "../jwt/keys.ts";

const SECRET = "test-secret-that-is-long-enough-32b";
const EXAMPLES = new URL("../../examples/backends/", import.meta.url);
const PYTHON = "/usr/bin/python3";

function gateway(alg: "EdDSA" | "ES256" | "RS256" | "HS256", aud = ""): Promise<TestGateway> {
  if (alg === "HS256") {
    return startGateway(jwtConfig(`  exp: 300\n  secret: ${SECRET}\n${aud}`, PLAIN_PROVIDER));
  }
  return startGateway(
    jwtConfig(
      `  exp: 300\n  algorithm: ${alg}\n  keys:\n    - private_key_file: k.pem\n${aud}`,
      PLAIN_PROVIDER,
    ),
    { files: { "k.pem": generateKey(alg).privatePem } },
  );
}

async function issue(gw: TestGateway): Promise<string> {
  const { res } = await gw.request("/authenticate", {
    headers: { authorization: basicAuth("adam:admin") },
  });
  assert.equal(res.status, 200);
  return res.headers.get("authorization")!;
}

Deno.test("examples/backends/verify_jose.ts accepts gateway tokens and rejects forged ones", async () => {
  for (const alg of ["EdDSA", "ES256", "RS256"] as const) {
    await using gw = await gateway(alg);
    const verify = createVerifier({ gatewayUrl: gw.url, issuer: "authotron-test" });
    const bearer = await issue(gw);
    const claims = await verify(new Request(gw.url, { headers: { authorization: bearer } }));
    assert.equal(claims?.username, "adam", alg);
    assert.deepEqual(claims?.roles, ["user"]);
    const forged = await new SignJWT({ username: "mallory", realm: "ecmwf", sub: "x" })
      .setProtectedHeader({ alg: "HS256", kid: gw.gateway.issuer.kid })
      .setIssuer("authotron-test").setIssuedAt().setExpirationTime("1m")
      .sign(new TextEncoder().encode(SECRET));
    const rejected = await verify(
      new Request(gw.url, { headers: { authorization: `Bearer ${forged}` } }),
    );
    assert.equal(rejected, null, "an HS256 token never passes the asymmetric verifier");
    const wrongIssuer = createVerifier({ gatewayUrl: gw.url, issuer: "someone-else" });
    assert.equal(
      await wrongIssuer(new Request(gw.url, { headers: { authorization: bearer } })),
      null,
    );
  }
});

/** Whether Debian's python3 can import PyJWT and cryptography. */
function pythonHasJwt(): boolean {
  try {
    const out = new Deno.Command(PYTHON, { args: ["-c", "import jwt, cryptography"] }).outputSync();
    return out.success;
  } catch {
    return false;
  }
}

async function runPython(args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(PYTHON, {
    args: [new URL("verify_pyjwt.py", EXAMPLES).pathname, ...args],
    env,
    clearEnv: true,
  }).output();
  return { code: out.code, stdout: new TextDecoder().decode(out.stdout) };
}

systemTest(
  "examples/backends/verify_pyjwt.py verifies every algorithm with PyJWT",
  [PYTHON],
  async () => {
    if (!pythonHasJwt()) {
      const reason =
        `${PYTHON} cannot import jwt/cryptography (apt-get install python3-jwt python3-cryptography)`;
      if (isCi()) throw new Error(reason);
      Deno.stderr.writeSync(new TextEncoder().encode(`SKIPPED verify_pyjwt.py: ${reason}\n`));
      return;
    }
    for (const alg of ["EdDSA", "ES256", "RS256"] as const) {
      await using gw = await gateway(alg);
      const token = (await issue(gw)).slice(7);
      const ok = await runPython([gw.url, "authotron-test", token]);
      assert.equal(ok.code, 0, `${alg}: ${ok.stdout}`);
      assert.equal(JSON.parse(ok.stdout).username, "adam");
      const bad = await runPython([gw.url, "other-issuer", token]);
      assert.equal(bad.code, 1, alg);
      assert.match(bad.stdout, /invalid token/);
    }
    await using hs = await gateway("HS256", "  audience: my-api\n");
    const token = (await issue(hs)).slice(7);
    const secretEnv = { AUTHOTRON_JWT_SECRET: SECRET };
    const noAudience = await runPython([hs.url, "authotron-test", token], secretEnv);
    assert.equal(noAudience.code, 1, "PyJWT rejects an aud it was not told about");
    const ok = await runPython([hs.url, "authotron-test", token], {
      ...secretEnv,
      AUTHOTRON_AUDIENCE: "my-api",
    });
    assert.equal(ok.code, 0, ok.stdout);
    assert.equal(JSON.parse(ok.stdout).realm, "ecmwf");
    const wrong = await runPython([hs.url, "authotron-test", token], {
      AUTHOTRON_JWT_SECRET: "not-the-secret",
      AUTHOTRON_AUDIENCE: "my-api",
    });
    assert.equal(wrong.code, 1);
  },
);

systemTest(
  "PyJWT without audience= verifies the token of an auth-o-tron config that sets jwt.aud",
  [PYTHON],
  async () => {
    if (!pythonHasJwt()) {
      const reason = `${PYTHON} cannot import jwt (apt-get install python3-jwt)`;
      if (isCi()) throw new Error(reason);
      Deno.stderr.writeSync(new TextEncoder().encode(`SKIPPED PyJWT jwt.aud: ${reason}\n`));
      return;
    }
    // The backend code of an auth-o-tron deployment: no audience argument at all.
    const script = "import jwt, sys, json\n" +
      "print(json.dumps(jwt.decode(sys.argv[1], sys.argv[2], algorithms=['HS256'])))\n";
    await using gw = await gateway("HS256", "  aud: my-api\n");
    const token = (await issue(gw)).slice(7);
    const out = await new Deno.Command(PYTHON, {
      args: ["-c", script, token, SECRET],
      clearEnv: true,
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr);
    const claims = JSON.parse(new TextDecoder().decode(out.stdout));
    assert.equal(claims.username, "adam");
    assert.equal("aud" in claims, false);
  },
);

systemTest(
  "examples/backends/nginx.conf forwards the gateway token to a jose backend",
  ["nginx"],
  async () => {
    await using gw = await gateway("EdDSA");
    const verify = createVerifier({ gatewayUrl: gw.url, issuer: "authotron-test" });
    const seen: (string | null)[] = [];
    await using backend = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      async (req) => {
        seen.push(req.headers.get("authorization"));
        const user = await verify(req);
        return user
          ? new Response(`hello ${user.username}`)
          : new Response("Unauthorized", { status: 401 });
      },
    );
    const example = await Deno.readTextFile(new URL("nginx.conf", EXAMPLES));
    const gatewayPort = new URL(gw.url).port;
    await using proxy = await startNginx(({ port }) =>
      nginxConfig(
        example.replaceAll("127.0.0.1:8080", `127.0.0.1:${gatewayPort}`)
          .replaceAll("127.0.0.1:9000", `127.0.0.1:${backend.addr.port}`)
          .replace("listen 127.0.0.1:8000", `listen 127.0.0.1:${port}`),
      )
    );
    const ok = await fetch(`${proxy.url}/hello`, {
      headers: { authorization: basicAuth("adam:admin") },
    });
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), "hello adam");
    assert.match(seen.at(-1)!, /^Bearer ey/, "the backend got the gateway's token, not Basic");
    const denied = await fetch(`${proxy.url}/hello`, {
      headers: { authorization: basicAuth("adam:nope") },
    });
    assert.equal(denied.status, 401);
    assert.match(denied.headers.get("www-authenticate") ?? "", /Basic/);
    await denied.body?.cancel();
    const jwks = await fetch(`${proxy.url}/.well-known/jwks.json`);
    assert.equal((await jwks.json()).keys.length, 1);
    assert.equal(seen.length, 1, "a denied request never reaches the backend");
  },
);
