/**
 * A real JWKS endpoint for tests (`Deno.serve` on 127.0.0.1:0) that counts
 * requests and can be switched to misbehave, plus signing keys of every
 * supported algorithm and a token signer.
 *
 * Every server gets a random path, so its URI is unique even when the OS
 * reuses a port: the JWKS cache is process-wide.
 *
 * @module
 */

import { base64url, exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";

/** How the endpoint answers. */
export type JwksMode =
  | "ok"
  | "500"
  | "404"
  | "429"
  | "hang"
  | "html"
  | "empty"
  | "no_keys_member"
  | "unusable"
  | "too_many"
  | "huge"
  | "redirect";

/** A running JWKS endpoint. */
export interface JwksServer extends AsyncDisposable {
  /** The `cert_uri` to configure. */
  readonly uri: string;
  /** Requests received so far. */
  readonly requests: number;
  /** The current answer mode (`ok` serves {@link keys}). */
  mode: JwksMode;
  /** The public keys served in `ok` mode. */
  keys: JWK[];
}

function json(body: unknown): Response {
  return new Response(JSON.stringify(body), { headers: { "content-type": "application/json" } });
}

function answer(mode: JwksMode, keys: JWK[], uri: string): Response | undefined {
  switch (mode) {
    case "ok":
      return json({ keys });
    case "500":
      return new Response("boom", { status: 500 });
    case "404":
      return new Response("not here", { status: 404 });
    case "429":
      return new Response(null, { status: 429 });
    case "html":
      return new Response("<html>maintenance</html>", { headers: { "content-type": "text/html" } });
    case "empty":
      return json({ keys: [] });
    case "no_keys_member":
      return json({ keys: {} });
    case "unusable":
      return json({ keys: [{ kty: "XYZ", kid: "odd" }, "not a key"] });
    case "too_many":
      return json({ keys: Array.from({ length: 101 }, (_, i) => ({ ...keys[0], kid: `k${i}` })) });
    case "huge":
      return json({ keys, padding: "x".repeat(1024 * 1024 + 10) });
    case "redirect":
      return new Response(null, { status: 302, headers: { location: uri } });
    case "hang":
      return undefined;
  }
}

/** Starts an endpoint serving `keys`. */
export function startJwksServer(keys: JWK[] = []): JwksServer {
  const stopping = new AbortController();
  const path = `/${crypto.randomUUID()}/certs`;
  let requests = 0;
  const state = { mode: "ok" as JwksMode, keys };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    requests++;
    const reply = answer(state.mode, state.keys, req.url);
    if (reply !== undefined) return reply;
    const gone = AbortSignal.any([req.signal, stopping.signal]);
    await new Promise((resolve) => gone.addEventListener("abort", resolve, { once: true }));
    return new Response(null, { status: 504 });
  });
  return {
    uri: `http://127.0.0.1:${server.addr.port}${path}`,
    get requests() {
      return requests;
    },
    get mode() {
      return state.mode;
    },
    set mode(mode: JwksMode) {
      state.mode = mode;
    },
    get keys() {
      return state.keys;
    },
    set keys(next: JWK[]) {
      state.keys = next;
    },
    async [Symbol.asyncDispose]() {
      stopping.abort();
      await server.shutdown();
    },
  };
}

/** A key that signs tokens, with the public JWK a JWKS serves for it. */
export interface SigningKey {
  /** The JWS algorithm. */
  readonly alg: string;
  /** The key id. */
  readonly kid: string;
  /** Private key (or HMAC secret). */
  readonly secret: CryptoKey | Uint8Array;
  /** The JWK published in the set (`oct` for HS512, as the original supports). */
  readonly jwk: JWK;
}

/** A fresh key for `alg` (RSA keys are 2048 bits). */
export async function signingKey(
  alg: string,
  kid: string = crypto.randomUUID(),
): Promise<SigningKey> {
  if (alg.startsWith("HS")) {
    const secret = crypto.getRandomValues(new Uint8Array(64));
    return { alg, kid, secret, jwk: { kty: "oct", k: base64url.encode(secret), kid } };
  }
  const pair = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(pair.publicKey);
  return { alg, kid, secret: pair.privateKey, jwk: { ...jwk, kid } };
}

/** Claims every valid token needs: `sub`, `scope` and an `exp` an hour ahead. */
export function baseClaims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { sub: "alice", scope: "read write", exp: Math.floor(Date.now() / 1000) + 3600, ...extra };
}

/** Signs `claims` with `key`; `header` overrides header fields (e.g. `kid`, `alg`). */
export function signToken(
  key: SigningKey,
  claims: Record<string, unknown> = baseClaims(),
  header: Record<string, unknown> = {},
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, ...header } as { alg: string })
    .sign(key.secret);
}

/** A compact JWS with an arbitrary header and payload and a raw signature (for hostile tests). */
export function rawToken(
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
  signature = "",
): string {
  const enc = (value: unknown) => base64url.encode(JSON.stringify(value));
  return `${enc(header)}.${enc(claims)}.${signature}`;
}
