import assert from "node:assert/strict";
import { loadConfig } from "../../lib/config/load.ts";
import { ConfigError } from "../../lib/util/errors.ts";
import { checkPlugins } from "../../lib/gateway.ts";
import { OptionsError, type PluginOptions } from "../../lib/plugin.ts";
import { isInsecureTransport, isLoopbackHost } from "../../providers/_shared/transport.ts";
import jwt from "../../providers/jwt.ts";
import openidOffline from "../../providers/openid_offline.ts";
import tokenGenerator from "../../providers/ecmwf_token_generator.ts";
import ecmwfApi from "../../providers/ecmwf_api.ts";
import efasApi from "../../providers/efas_api.ts";
import ldap from "../../augmenters/ldap.ts";
import { captureLogger, pluginContext } from "../support/plugin_context.ts";
import { testConfig } from "../support/gateway.ts";

type Module = {
  parseOptions?(options: PluginOptions): unknown;
  create(options: never, context: ReturnType<typeof pluginContext>): unknown;
};

const SECURE = "https://iam.example.org/certs";

/** Every plugin option that names an upstream URL, with the other options it needs. */
const CASES: { type: string; module: Module; key: string; base: PluginOptions }[] = [
  { type: "jwt", module: jwt, key: "cert_uri", base: {} },
  ...["iam_url", "cert_uri"].map((key) => ({
    type: "openid_offline",
    module: openidOffline,
    key,
    base: {
      iam_url: "https://iam.example.org",
      cert_uri: SECURE,
      public_client_id: "pub",
      private_client_id: "priv",
      private_client_secret: "s3cret",
    },
  })),
  ...["token_generator_url", "cert_uri"].map((key) => ({
    type: "ecmwf_token_generator",
    module: tokenGenerator,
    key,
    base: {
      token_generator_url: "https://tokens.example.org",
      cert_uri: SECURE,
      client_id: "gw",
      client_secret: "s3cret",
    },
  })),
  { type: "ecmwf_api", module: ecmwfApi, key: "uri", base: {} },
  { type: "efas_api", module: efasApi, key: "uri", base: {} },
];

function parse(module: Module, options: PluginOptions): unknown {
  return module.parseOptions!(options);
}

function refusedAt(path: (string | number)[], message: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof OptionsError, String(error));
    assert.deepEqual(error.path, path);
    assert.match(error.message, message);
    return true;
  };
}

Deno.test("isLoopbackHost() knows 127.0.0.0/8, ::1 and localhost, nothing else", () => {
  for (const host of ["127.0.0.1", "127.255.0.9", "localhost", "LOCALHOST", "[::1]"]) {
    assert.equal(isLoopbackHost(host), true, host);
  }
  for (const host of ["10.0.0.1", "128.0.0.1", "127.0.0.1.nip.io", "localhost.evil.org", "[::2]"]) {
    assert.equal(isLoopbackHost(host), false, host);
  }
  // URL normalises odd IPv4 forms before the check.
  assert.equal(isInsecureTransport("http://127.1/x"), false);
  assert.equal(isInsecureTransport("http://0x7f.0.0.1/x"), false);
  assert.equal(isInsecureTransport("http://[0:0:0:0:0:0:0:1]/x"), false);
  assert.equal(isInsecureTransport("http://169.254.169.254/x"), true);
  assert.equal(isInsecureTransport("https://iam.example.org/x"), false);
  assert.equal(isInsecureTransport("ldap://ldap.example.org"), true);
  assert.equal(isInsecureTransport("ldap://ldap.example.org", true), false);
  assert.equal(isInsecureTransport("ldaps://ldap.example.org"), false);
});

for (const { type, module, key, base } of CASES) {
  Deno.test(`${type}.parseOptions() refuses a non-loopback http:// ${key} unless allow_insecure_transport is set (K07/X06)`, async () => {
    const plain = { ...base, [key]: "http://iam.internal.example.org/x" };
    assert.throws(
      () => parse(module, plain),
      refusedAt(
        [key],
        /plaintext http:\/\/.*iam\.internal\.example\.org.*allow_insecure_transport/,
      ),
    );
    assert.throws(
      () => parse(module, { ...plain, allow_insecure_transport: "yes" }),
      refusedAt(["allow_insecure_transport"], /true or false/),
    );
    for (const host of ["127.0.0.1:8080", "127.3.2.1", "localhost:9", "[::1]:8080"]) {
      parse(module, { ...base, [key]: `http://${host}/x` });
    }
    parse(module, { ...base, [key]: "https://iam.example.org/x" });

    const log = captureLogger();
    const options = parse(module, { ...plain, allow_insecure_transport: true });
    const plugin = await module.create(options as never, pluginContext(type, "ecmwf", log));
    await (plugin as AsyncDisposable)[Symbol.asyncDispose]?.();
    const warned = log.lines.filter((line) => line.event.endsWith(".insecure_transport"));
    assert.equal(warned.length, 1, JSON.stringify(log.lines));
    assert.equal(warned[0].event, `providers.${type}.insecure_transport`);
    assert.equal(warned[0].level, "warn");
    assert.deepEqual(warned[0].attributes?.key, key);
  });
}

Deno.test("ldap.parseOptions() refuses a non-loopback ldap:// uri without StartTLS unless allow_insecure_transport is set (X06)", async () => {
  const base = {
    search_base: "dc=example,dc=org",
    bind_dn: "cn=gateway,dc=example,dc=org",
    ldap_password: "s3cret",
  };
  const plain = { ...base, uri: "ldap://ldap.example.org:389" };
  assert.throws(
    () => parse(ldap, plain),
    refusedAt(
      ["uri"],
      /ldap\.example\.org.*ldaps:\/\/ or start_tls: true.*allow_insecure_transport/,
    ),
  );
  parse(ldap, { ...plain, start_tls: true });
  parse(ldap, { ...base, uri: "ldaps://ldap.example.org" });
  parse(ldap, { ...base, uri: "ldap://127.0.0.1:389" });
  parse(ldap, { ...base, uri: "ldap://localhost" });

  const log = captureLogger();
  const options = parse(ldap, { ...plain, allow_insecure_transport: true });
  const plugin = await ldap.create(options as never, pluginContext("directory", "corp", log));
  await plugin[Symbol.asyncDispose]?.();
  const warned = log.lines.filter((line) => line.event === "augmenters.ldap.insecure_transport");
  assert.equal(warned.length, 1);
  assert.equal(warned[0].level, "warn");
  assert.ok(!JSON.stringify(log.lines).includes("s3cret"));
});

Deno.test("checkPlugins() refuses to start on a non-loopback http:// cert_uri, naming file, line and key (K07)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "aot-transport-" });
  try {
    const path = `${dir}/config.yaml`;
    await Deno.writeTextFile(
      path,
      testConfig(`providers:
  - type: jwt
    name: idp
    realm: ecmwf
    cert_uri: http://iam.internal.example.org/certs
`),
    );
    const error = await checkPlugins(await loadConfig(path, {})).then(() => undefined, (e) => e);
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
    assert.match(error.message, /config\.yaml:\d+:\d+/);
    assert.match(error.message, /providers\[0\]\.cert_uri/);
    assert.match(error.message, /allow_insecure_transport/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
