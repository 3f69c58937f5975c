import assert from "node:assert/strict";
import { parseConfig } from "../../lib/config/load.ts";
import { ConfigError } from "../../lib/util/errors.ts";
import { loadJwtKeys } from "../../lib/jwt/keys.ts";
import { generateKey, jwtConfig } from "./keys.ts";

const ED = generateKey("EdDSA");
const RSA = generateKey("RS256");

/** Parses `jwt` lines in a temp dir holding `files`, then loads the keys. */
async function load(
  jwt: string,
  files: Record<string, string> = {},
  env: Record<string, string> = {},
) {
  const dir = await Deno.makeTempDir({ prefix: "aot-jwt-" });
  try {
    for (const [name, text] of Object.entries(files)) {
      await Deno.writeTextFile(`${dir}/${name}`, text);
    }
    const config = parseConfig(jwtConfig(jwt, "providers: []\n"), `${dir}/config.yaml`, {});
    return { config, keys: await loadJwtKeys(config, env) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Asserts a ConfigError whose message matches `pattern` and leaks no key material. */
async function rejects(
  pattern: RegExp,
  jwt: string,
  files?: Record<string, string>,
  env?: Record<string, string>,
) {
  const error = await load(jwt, files, env).then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
  assert.match(error.message, pattern);
  assert.ok(!/-----BEGIN|"d":/.test(error.message), error.message);
  for (const key of [ED, RSA]) assert.ok(!error.message.includes(key.privatePem.slice(30, 60)));
}

Deno.test("readJwt() defaults to HS256 and requires the secret only for HS256", async () => {
  await rejects(/^\S+config\.yaml:\d+:\d+ jwt\.secret: is required/, "  exp: 60\n");
  const { config, keys } = await load(
    "  exp: 60\n  algorithm: eddsa\n  keys:\n    - private_key: |\n" +
      ED.privatePem.trim().split("\n").map((l) => `        ${l}`).join("\n") + "\n",
  );
  assert.equal(config.jwt.algorithm, "EdDSA");
  assert.equal(config.jwt.secret, undefined);
  assert.equal(config.jwt.keys[0]!.active, true, "a lone key is the active one");
  assert.equal(keys.signer.alg, "EdDSA");
  assert.equal(keys.signer.key.extractable, false);
});

Deno.test("readJwt() refuses a bad algorithm, audience and not_after, naming line and key", async () => {
  await rejects(
    /config\.yaml:9:\d+ jwt\.algorithm: expected one of HS256, ES256, EdDSA, RS256, got "HS512"/,
    "  exp: 60\n  algorithm: HS512\n",
  );
  await rejects(
    /jwt\.audience: must not be an empty list/,
    "  exp: 60\n  secret: s\n  audience: []\n",
  );
  await rejects(
    /jwt\.keys\[0\]\.not_after: expected an ISO 8601 date-time/,
    "  exp: 60\n  secret: s\n  keys:\n    - { public_key: x, not_after: tomorrow }\n",
  );
});

Deno.test("readJwt() refuses a missing key, two active keys and an active public key", async () => {
  await rejects(
    /jwt\.keys: is required when jwt\.algorithm is ES256/,
    "  exp: 60\n  algorithm: ES256\n",
  );
  await rejects(
    /config\.yaml:12:\d+ jwt\.keys\[1\]\.active: only one key may be active; jwt\.keys\[0\] is active too/,
    "  exp: 60\n  algorithm: EdDSA\n  keys:\n    - { private_key_file: a.pem, active: true }\n    - { private_key_file: b.pem, active: true }\n",
  );
  await rejects(
    /jwt\.keys: exactly one key needs active: true/,
    "  exp: 60\n  algorithm: EdDSA\n  keys:\n    - { private_key_file: a.pem }\n    - { private_key_file: b.pem }\n",
  );
  await rejects(
    /jwt\.keys\[0\]\.active: a public key cannot sign/,
    "  exp: 60\n  algorithm: EdDSA\n  keys:\n    - { public_key_file: a.pub, active: true }\n",
  );
  await rejects(
    /jwt\.keys\[0\]\.active: HS256 signs with jwt\.secret/,
    "  exp: 60\n  secret: s\n  keys:\n    - { private_key_file: a.pem, active: true }\n",
  );
  await rejects(
    /jwt\.keys\[0\]: needs exactly one of private_key, private_key_file/,
    "  exp: 60\n  algorithm: EdDSA\n  keys:\n    - { kid: x }\n",
  );
});

Deno.test("loadJwtKeys() refuses bad PEM, a wrong key type and unreadable sources without echoing them", async () => {
  const eddsa = "  exp: 60\n  algorithm: EdDSA\n  keys:\n    - private_key_file: k.pem\n";
  await rejects(
    /config\.yaml:11:\d+ jwt\.keys\[0\]\.private_key_file: is not a private key: expected PEM/,
    eddsa,
    {
      "k.pem":
        "-----BEGIN PRIVATE KEY-----\nMIIBVQIBADANBgkqhkiG9w0BAQEFAASCAT8wggE7AgEAAkEA\n-----END PRIVATE KEY-----\n",
    },
  );
  await rejects(/is not a private key/, eddsa, { "k.pem": ED.publicPem });
  await rejects(/jwt\.keys\[0\]: is a key for RS256, but jwt\.algorithm is EdDSA/, eddsa, {
    "k.pem": RSA.privatePem,
  });
  await rejects(/is an RSA key of 1024 bits; supported/, eddsa, {
    "k.pem": generateKey("RSA1024").privatePem,
  });
  await rejects(/is an EC key on curve secp384r1/, eddsa, {
    "k.pem": generateKey("P384").privatePem,
  });
  await rejects(/private_key_file: k\.pem does not exist/, eddsa);
  await rejects(
    /private_key_env: the environment variable SIGNING_KEY is not set or empty/,
    "  exp: 60\n  algorithm: EdDSA\n  keys:\n    - private_key_env: SIGNING_KEY\n",
  );
  await rejects(
    /jwt\.keys\[1\]: kid "same" is already used by jwt\.keys\[0\]/,
    "  exp: 60\n  algorithm: EdDSA\n  keys:\n    - { kid: same, private_key_env: A, active: true }\n    - { kid: same, private_key_env: A, active: false }\n",
    {},
    { A: ED.privatePem },
  );
});

Deno.test("main.ts --check-config loads the signing keys and names a bad one", async () => {
  const dir = await Deno.makeTempDir({ prefix: "aot-jwt-main-" });
  try {
    await Deno.writeTextFile(`${dir}/rsa.pem`, RSA.privatePem);
    await Deno.writeTextFile(
      `${dir}/config.yaml`,
      jwtConfig(
        "  exp: 60\n  algorithm: EdDSA\n  keys:\n    - private_key_file: rsa.pem\n",
        "providers: []\n",
      ),
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-env",
        "--allow-read",
        new URL("../../main.ts", import.meta.url).pathname,
        "--check-config",
        `${dir}/config.yaml`,
      ],
      env: { NO_COLOR: "1" },
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 1);
    assert.match(
      stderr,
      /^Error loading configuration: \S+config\.yaml:11:\d+ jwt\.keys\[0\]: is a key for RS256, but jwt\.algorithm is EdDSA/,
    );
    assert.ok(!stderr.includes("-----BEGIN"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
