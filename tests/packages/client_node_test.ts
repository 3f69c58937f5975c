/**
 * `@authotron/client` under Node: `deno task build-client-npm` builds the npm
 * package, `jose` is linked from Deno's npm cache (the locked version) as it
 * would be installed from npm, and `node --test` runs
 * tests/packages/node/client_suite.mjs against real HS256 and EdDSA gateways.
 */

import assert from "node:assert/strict";
import { buildClientNpm } from "../../tools/build_client_npm.ts";
import { basicAuth, startGateway } from "../support/gateway.ts";
import { removeDir, requireBinary, systemTest, tempDir } from "../support/system.ts";
import { generateKey, jwtConfig, PLAIN_PROVIDER, SECRET } from "../jwt/keys.ts";

const NODE_TEST = new URL("node/client_suite.mjs", import.meta.url).pathname;

/** Deno's cached copy of the npm `jose` that deno.lock pins. */
async function cachedJose(): Promise<string> {
  const lock = JSON.parse(await Deno.readTextFile(new URL("../../deno.lock", import.meta.url)));
  const version = lock.specifiers["npm:jose@^6.2.18"];
  const info = await new Deno.Command(Deno.execPath(), { args: ["info", "--json"] }).output();
  const { npmCache } = JSON.parse(new TextDecoder().decode(info.stdout));
  return `${npmCache}/registry.npmjs.org/jose/${version}`;
}

systemTest(
  "the npm build of @authotron/client passes its tests under node --test",
  ["node"],
  async () => {
    await using hs256 = await startGateway(
      jwtConfig(`  exp: 300\n  secret: ${SECRET}\n`, PLAIN_PROVIDER),
    );
    await using eddsa = await startGateway(
      jwtConfig(
        `  exp: 300\n  algorithm: EdDSA\n  keys:\n    - private_key_file: k.pem\n`,
        PLAIN_PROVIDER,
      ),
      { files: { "k.pem": generateKey("EdDSA").privatePem } },
    );
    const dir = await tempDir("client-npm");
    try {
      const pkg = `${dir}/node_modules/@authotron/client`;
      const manifest = await buildClientNpm(pkg);
      assert.deepEqual(manifest.dependencies, { jose: "^6.2.18" });
      const index = await Deno.readTextFile(`${pkg}/index.js`);
      assert.match(index, /from "jose"/, "jose stays a dependency, not bundled");
      assert.ok(!/\bDeno\./.test(index), "no Deno-only API in the npm build");
      await Deno.stat(`${pkg}/index.d.ts`);
      await Deno.symlink(await cachedJose(), `${dir}/node_modules/jose`);
      await Deno.copyFile(NODE_TEST, `${dir}/client_suite.mjs`);
      const out = await new Deno.Command(requireBinary("node"), {
        args: ["--test", "client_suite.mjs"],
        cwd: dir,
        clearEnv: true,
        env: {
          PATH: "/usr/bin:/bin",
          HS256_URL: hs256.url,
          EDDSA_URL: eddsa.url,
          SECRET,
          ISSUER: "authotron-test",
          CREDENTIAL: basicAuth("adam:admin"),
        },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      assert.ok(out.success, text);
      assert.match(text, /# pass 4\b/, text);
      assert.match(text, /# fail 0\b/, text);
    } finally {
      await removeDir(dir);
    }
  },
);
