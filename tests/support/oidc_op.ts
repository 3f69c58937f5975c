/**
 * A Keycloak-like OpenID Connect provider for system tests: npm
 * `oidc-provider@9` under Node (`tests/support/oidc/op.mjs`), on a free
 * 127.0.0.1 port with Keycloak's URL layout, so the gateway's
 * `openid-offline` provider can introspect and exchange real offline tokens.
 * The npm dependencies are installed into `tests/support/oidc/node_modules`
 * on first use (`.ci/run` does it up front).
 *
 * ```ts
 * await using op = await startOidcProvider();
 * const offlineToken = await op.getOfflineRefreshToken("alice");
 * // provider config: iam_url = op.iamUrl, realm = op.realm, cert_uri = op.jwksUri,
 * // public_client_id / private_client_id / private_client_secret from op.
 * ```
 *
 * @module
 */

import { authorizationCodeWithPkce } from "./oidc_login.ts";
import {
  freePort,
  type ManagedProcess,
  removeDir,
  requireBinary,
  run,
  spawnLogged,
  tempDir,
  waitForPort,
} from "./system.ts";

/** A running test OpenID Connect provider. */
export interface OidcProvider {
  /** `http://127.0.0.1:PORT/realms/REALM` (the `iss` of its tokens). */
  issuer: string;
  /** `http://127.0.0.1:PORT` (the gateway's `iam_url`). */
  iamUrl: string;
  /** The realm name in the URLs. */
  realm: string;
  /** JWKS URL (`.../protocol/openid-connect/certs`, the gateway's `cert_uri`). */
  jwksUri: string;
  /** Token endpoint (`.../protocol/openid-connect/token`). */
  tokenEndpoint: string;
  /** Introspection endpoint (`.../protocol/openid-connect/token/introspect`). */
  introspectionEndpoint: string;
  /** Confidential client allowed to introspect. */
  privateClientId: string;
  /** Its secret. */
  privateClientSecret: string;
  /** Public client that owns the offline refresh tokens. */
  publicClientId: string;
  /** The `aud` of the JWT access tokens. */
  audience: string;
  /** Logs `username` in (code flow + PKCE, scope `openid offline_access`) and returns the offline refresh token. */
  getOfflineRefreshToken(username: string): Promise<string>;
  /** Revokes a refresh token (introspection then says `active: false`). */
  revokeToken(token: string): Promise<void>;
  /** Stops the provider and removes its temp dir. */
  stop(): Promise<void>;
}

/** Options for {@linkcode startOidcProvider}. */
export interface OidcProviderOptions {
  /** Realm name (default `test`). */
  realm?: string;
}

const OIDC_DIR = decodeURIComponent(new URL("./oidc/", import.meta.url).pathname);

/** Installs the provider's npm dependencies into tests/support/oidc/node_modules if missing. */
export async function ensureOidcDependencies(): Promise<void> {
  const marker = `${OIDC_DIR}node_modules/oidc-provider/package.json`;
  if (await Deno.stat(marker).then(() => true, () => false)) return;
  const npm = requireBinary("npm");
  try {
    await run(npm, ["ci", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: OIDC_DIR });
  } catch (error) {
    throw new Error(
      `could not install the test OIDC provider's npm packages (run \`npm ci\` in ${OIDC_DIR}): ${
        error instanceof Error ? error.message : error
      }`,
    );
  }
}

async function postForm(
  url: string,
  form: Record<string, string>,
  authorization?: string,
): Promise<Record<string, unknown>> {
  const response = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      ...(authorization ? { authorization } : {}),
    },
    body: new URLSearchParams(form),
  });
  const text = await response.text();
  const json = text ? JSON.parse(text) : {};
  if (!response.ok) throw new Error(`${url} -> ${response.status} ${JSON.stringify(json)}`);
  return json;
}

/**
 * Starts the provider (needs Node ≥ 20 and npm for the first install).
 * Throws `MissingBinaryError` when node is missing.
 */
export async function startOidcProvider(
  options: OidcProviderOptions = {},
): Promise<OidcProvider & AsyncDisposable> {
  const node = requireBinary("node");
  await ensureOidcDependencies();
  const dir = await tempDir("oidc");
  const port = freePort();
  const realm = options.realm ?? "test";
  const iamUrl = `http://127.0.0.1:${port}`;
  const issuer = `${iamUrl}/realms/${realm}`;
  const endpoint = (path: string) => `${issuer}/protocol/openid-connect/${path}`;
  const config = {
    port,
    realm,
    privateClientId: "gateway-private",
    privateClientSecret: `secret-${crypto.randomUUID()}`,
    publicClientId: "gateway-public",
    redirectUri: "http://127.0.0.1/callback",
    audience: "urn:authotron:gateway",
  };
  let proc: ManagedProcess | undefined;
  const stop = async () => {
    await proc?.stop("SIGTERM");
    await removeDir(dir);
  };
  try {
    proc = await spawnLogged(node, {
      args: [`${OIDC_DIR}op.mjs`],
      cwd: OIDC_DIR,
      env: { OIDC_OP_CONFIG: JSON.stringify(config) },
      logFile: `${dir}/op.log`,
    });
    await waitForPort(port, 60_000, proc);
  } catch (error) {
    await stop();
    throw new Error(`startOidcProvider failed: ${error instanceof Error ? error.message : error}`, {
      cause: error,
    });
  }
  return {
    issuer,
    iamUrl,
    realm,
    jwksUri: endpoint("certs"),
    tokenEndpoint: endpoint("token"),
    introspectionEndpoint: endpoint("token/introspect"),
    privateClientId: config.privateClientId,
    privateClientSecret: config.privateClientSecret,
    publicClientId: config.publicClientId,
    audience: config.audience,
    async getOfflineRefreshToken(username) {
      const { code, verifier } = await authorizationCodeWithPkce({
        authorizationEndpoint: endpoint("auth"),
        clientId: config.publicClientId,
        redirectUri: config.redirectUri,
        scope: "openid offline_access",
        username,
      });
      const tokens = await postForm(endpoint("token"), {
        grant_type: "authorization_code",
        client_id: config.publicClientId,
        code,
        code_verifier: verifier,
        redirect_uri: config.redirectUri,
      });
      if (typeof tokens.refresh_token !== "string") throw new Error("no refresh_token issued");
      return tokens.refresh_token;
    },
    async revokeToken(token) {
      await postForm(endpoint("revoke"), { token, client_id: config.publicClientId });
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
