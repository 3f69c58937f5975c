/**
 * `@authotron/client`: trust Auth-O-Tron from a TypeScript backend (Deno,
 * Node or Bun: only web-standard APIs and `jose`).
 *
 * - {@link verifyToken} checks the gateway's JWT (HS256 with the shared
 *   secret, or EdDSA/ES256/RS256 through `/.well-known/jwks.json`) and returns
 *   the {@link User}, with the original `authotron-client`'s `default` role.
 * - {@link fromEmailKey} turns `EmailKey user@example.com:token` into `Bearer token`.
 * - {@link AuthClient} calls the gateway's `/authenticate` for a raw
 *   credential, with a bounded TTL cache keyed by an HMAC of the credential
 *   and one call for concurrent misses of the same credential.
 * - {@link requestAuthenticator} is the `(Request) => Promise<User>` glue for
 *   any framework built on web `Request` (Hono, Oak, `Deno.serve`, Bun).
 *
 * @example Verify the token NGINX forwards
 * ```ts
 * import { requestAuthenticator } from "@authotron/client";
 *
 * const authenticate = requestAuthenticator({
 *   key: { jwksUrl: "http://authotron:8080/.well-known/jwks.json" },
 *   issuer: "https://auth.example.org",
 * });
 * // const user = await authenticate(request); // throws AuthError (status 401 or 503)
 * ```
 *
 * @module
 */

import { createRemoteJWKSet, type JWTPayload, jwtVerify } from "jose";

/** An authenticated user, as the gateway's token describes it. */
export interface User {
  /** Always 1. */
  readonly version: 1;
  /** The login name. */
  readonly username: string;
  /** The realm that authenticated the user. */
  readonly realm: string;
  /** Roles without duplicates, in token order, always ending with (or containing) `default`. */
  readonly roles: readonly string[];
  /** Attributes; non-string values in the token become compact JSON text. */
  readonly attributes: Readonly<Record<string, string>>;
  /** Scopes keyed by service. */
  readonly scopes: Readonly<Record<string, readonly string[]>>;
}

/** How to check a token's signature: the shared HS256 secret, or the gateway's JWKS. */
export type VerificationKey =
  | { readonly secret: string | Uint8Array }
  | { readonly jwksUrl: string | URL };

/** What a token must say besides its signature. */
export interface VerifyOptions {
  /** The gateway's `jwt.iss` (required: a token from another issuer is refused). */
  readonly issuer: string;
  /** The gateway's `jwt.aud`, when it sets one. */
  readonly audience?: string | readonly string[];
  /** Allowed clock skew in seconds (default 5, as the original client). */
  readonly clockToleranceSeconds?: number;
}

/** Why a user could not be established. */
export type AuthErrorCode = "unauthorized" | "invalid_jwt" | "service_unavailable";

/** A failed authentication, with the HTTP answer a backend should give. */
export class AuthError extends Error {
  /** Stable code: `unauthorized`, `invalid_jwt` or `service_unavailable`. */
  readonly code: AuthErrorCode;
  /** 401, or 503 when the gateway could not decide or could not be reached. */
  readonly status: 401 | 503;
  /** The `WWW-Authenticate` challenge to pass on with a 401 (the gateway's, else `Bearer`). */
  readonly wwwAuthenticate?: string;
  /** Creates the error; the message is prefixed like the original client's. */
  constructor(
    code: AuthErrorCode,
    detail: string,
    options: ErrorOptions & { wwwAuthenticate?: string } = {},
  ) {
    super(`${PREFIX[code]}: ${detail}`, options);
    this.name = "AuthError";
    this.code = code;
    this.status = code === "service_unavailable" ? 503 : 401;
    if (code !== "service_unavailable") this.wwwAuthenticate = options.wwwAuthenticate ?? "Bearer";
  }

  /** Headers for the HTTP answer (`WWW-Authenticate` on a 401, `Retry-After` on a 503). */
  get headers(): Record<string, string> {
    return this.status === 401
      ? { "www-authenticate": this.wwwAuthenticate ?? "Bearer" }
      : { "retry-after": "5" };
  }
}

const PREFIX: Record<AuthErrorCode, string> = {
  unauthorized: "unauthorized",
  invalid_jwt: "invalid JWT",
  service_unavailable: "auth service unavailable",
};

const ASYMMETRIC = ["EdDSA", "ES256", "RS256"];
const MAX_JWKS_SETS = 16;
const jwksSets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

/** One JWKS fetcher per URL (bounded), so keys are fetched once and on an unknown `kid`. */
function jwksFor(url: string | URL): ReturnType<typeof createRemoteJWKSet> {
  const href = new URL(url).href;
  let set = jwksSets.get(href);
  if (set === undefined) {
    if (jwksSets.size >= MAX_JWKS_SETS) jwksSets.delete(jwksSets.keys().next().value!);
    set = createRemoteJWKSet(new URL(href));
    jwksSets.set(href, set);
  }
  return set;
}

/**
 * Verifies a gateway token and returns its user. The algorithm is pinned by
 * the key (HS256 for a secret, EdDSA/ES256/RS256 for a JWKS); `exp`, `iss`
 * and (when given) `aud` are checked with 5 s of leeway. Roles gain `default`
 * and lose duplicates, like the original `authotron-client`. Throws
 * {@link AuthError} `invalid_jwt` for anything else.
 */
export async function verifyToken(
  token: string,
  key: VerificationKey,
  options: VerifyOptions,
): Promise<User> {
  return userFromClaims(await verifiedClaims(token, key, options));
}

/** The claims of a token whose signature, `exp`, `iss` and `aud` check out. */
async function verifiedClaims(
  token: string,
  key: VerificationKey,
  options: VerifyOptions,
): Promise<JWTPayload> {
  const verifyOptions = {
    issuer: options.issuer,
    audience: options.audience as string | string[] | undefined,
    clockTolerance: options.clockToleranceSeconds ?? 5,
    requiredClaims: ["exp", "iss"],
  };
  let payload: JWTPayload;
  try {
    if ("secret" in key) {
      const secret = typeof key.secret === "string"
        ? new TextEncoder().encode(key.secret)
        : key.secret;
      ({ payload } = await jwtVerify(token, secret, { ...verifyOptions, algorithms: ["HS256"] }));
    } else {
      ({ payload } = await jwtVerify(token, jwksFor(key.jwksUrl), {
        ...verifyOptions,
        algorithms: ASYMMETRIC,
      }));
    }
  } catch (error) {
    throw new AuthError("invalid_jwt", describe(error), { cause: error });
  }
  return payload;
}

/** The user of verified claims (spec 7.3 of the original: `default` role, attribute text). */
function userFromClaims(claims: JWTPayload): User {
  const { username, realm, roles, attributes, scopes } = claims;
  if (typeof username !== "string") throw new AuthError("invalid_jwt", "missing claim username");
  if (typeof realm !== "string") throw new AuthError("invalid_jwt", "missing claim realm");
  if (roles !== undefined && !isStringArray(roles)) {
    throw new AuthError("invalid_jwt", "roles is not a list of strings");
  }
  const outScopes: Record<string, string[]> = {};
  if (scopes !== undefined && scopes !== null) {
    if (typeof scopes !== "object" || Array.isArray(scopes)) {
      throw new AuthError("invalid_jwt", "scopes is not an object");
    }
    for (const [service, list] of Object.entries(scopes)) {
      if (!isStringArray(list)) {
        throw new AuthError("invalid_jwt", "scopes is not lists of strings");
      }
      define(outScopes, service, [...list]);
    }
  }
  const outAttributes: Record<string, string> = {};
  if (attributes !== undefined) {
    if (typeof attributes !== "object" || attributes === null || Array.isArray(attributes)) {
      throw new AuthError("invalid_jwt", "attributes is not an object");
    }
    for (const [name, value] of Object.entries(attributes)) {
      define(outAttributes, name, typeof value === "string" ? value : JSON.stringify(value));
    }
  }
  return {
    version: 1,
    username,
    realm,
    roles: [...new Set([...(roles ?? []), "default"])],
    attributes: outAttributes,
    scopes: outScopes,
  };
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === "string");
}

/** Sets an own data property (a `__proto__` key stays data). */
function define<T>(target: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * `EmailKey user@example.com:token` → `Bearer token` (everything after the
 * first `:`); any other header, including `EmailKey` without a `:`, unchanged.
 */
export function fromEmailKey(header: string): string {
  if (!header.startsWith("EmailKey ")) return header;
  const colon = header.indexOf(":");
  return colon < 0 ? header : `Bearer ${header.slice(colon + 1)}`;
}

/** Settings of an {@link AuthClient}. */
export interface AuthClientOptions extends VerifyOptions {
  /** The gateway's base URL, such as `http://authotron:8080`. */
  readonly url: string | URL;
  /** How to verify the returned JWT (default: the gateway's `/.well-known/jwks.json`). */
  readonly key?: VerificationKey;
  /** How long a user stays cached, in milliseconds (default 60 000; never past the token's `exp`). */
  readonly ttlMs?: number;
  /** At most this many cached users (default 10 000); the least recently used goes first. */
  readonly maxEntries?: number;
  /** Bound of one `/authenticate` call, in milliseconds (default 5 000). */
  readonly timeoutMs?: number;
  /** The `fetch` to use (default: the global one). */
  readonly fetch?: typeof fetch;
}

interface CachedUser {
  readonly user: User;
  readonly expires: number;
}

/**
 * Authenticates raw credentials (`Authorization` values such as
 * `Basic …`, `Bearer <opaque token>` or `EmailKey …`) through the gateway's
 * `GET /authenticate`, verifies the JWT it returns and caches the user.
 *
 * The cache is bounded (`maxEntries`, LRU), entries live `ttlMs` and never
 * past the token's `exp`, keys are an HMAC-SHA256 of the credential under a
 * key drawn per client (the cache never holds a usable credential), failures
 * are not cached, and concurrent misses for one credential share one call.
 */
export class AuthClient {
  readonly #base: string;
  readonly #key: VerificationKey;
  readonly #verify: VerifyOptions;
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;
  readonly #cache = new Map<string, CachedUser>();
  readonly #inflight = new Map<string, Promise<User>>();
  readonly #hmacKey: Promise<CryptoKey>;

  /** Creates a client for the gateway at `options.url`. */
  constructor(options: AuthClientOptions) {
    this.#base = new URL(options.url).href.replace(/\/+$/, "");
    this.#key = options.key ?? { jwksUrl: `${this.#base}/.well-known/jwks.json` };
    this.#verify = {
      issuer: options.issuer,
      audience: options.audience,
      clockToleranceSeconds: options.clockToleranceSeconds,
    };
    this.#ttlMs = options.ttlMs ?? 60_000;
    this.#maxEntries = options.maxEntries ?? 10_000;
    if (!(this.#maxEntries >= 1)) throw new RangeError("maxEntries must be at least 1");
    this.#timeoutMs = options.timeoutMs ?? 5_000;
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.#hmacKey = crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  }

  /** Users held in the cache. */
  get size(): number {
    return this.#cache.size;
  }

  /**
   * The user for an `Authorization` header value (`EmailKey` converted
   * first). Throws {@link AuthError}: `unauthorized` (401 from the gateway,
   * with its challenge), `service_unavailable` (unreachable, timed out, or the
   * gateway's 5xx/429: it could not decide) or `invalid_jwt`.
   */
  async authenticate(authorization: string): Promise<User> {
    const header = fromEmailKey(authorization);
    const key = await this.#cacheKey(header);
    const cached = this.#cache.get(key);
    if (cached !== undefined) {
      this.#cache.delete(key);
      if (cached.expires > Date.now()) {
        this.#cache.set(key, cached); // most recently used
        return cached.user;
      }
    }
    const pending = this.#inflight.get(key);
    if (pending !== undefined) return pending;
    const loading = this.#load(header).then(
      ({ user, exp }) => {
        this.#inflight.delete(key);
        const expires = Math.min(Date.now() + this.#ttlMs, exp * 1000);
        if (expires > Date.now()) {
          this.#cache.set(key, { user, expires });
          while (this.#cache.size > this.#maxEntries) {
            this.#cache.delete(this.#cache.keys().next().value!);
          }
        }
        return user;
      },
      (error) => {
        this.#inflight.delete(key);
        throw error;
      },
    );
    this.#inflight.set(key, loading);
    return loading;
  }

  async #cacheKey(header: string): Promise<string> {
    const mac = await crypto.subtle.sign(
      "HMAC",
      await this.#hmacKey,
      new TextEncoder().encode(header),
    );
    return Array.from(new Uint8Array(mac), (b) => b.toString(16).padStart(2, "0")).join("");
  }

  async #load(header: string): Promise<{ user: User; exp: number }> {
    let res: Response;
    try {
      res = await this.#fetch(`${this.#base}/authenticate`, {
        headers: { authorization: header },
        redirect: "manual",
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      await res.body?.cancel();
    } catch (error) {
      throw new AuthError("service_unavailable", `auth service error: ${describe(error)}`, {
        cause: error,
      });
    }
    if (res.status >= 500 || res.status === 429) {
      throw new AuthError("service_unavailable", `the gateway answered ${res.status}`);
    }
    if (res.status < 200 || res.status > 299) {
      throw new AuthError("unauthorized", "authentication failed", {
        wwwAuthenticate: res.headers.get("www-authenticate") ?? "Bearer",
      });
    }
    const answer = res.headers.get("authorization");
    if (answer === null) {
      throw new AuthError("invalid_jwt", "missing Authorization header in the gateway's response");
    }
    if (!answer.startsWith("Bearer ")) {
      throw new AuthError("invalid_jwt", "Authorization header is not Bearer scheme");
    }
    const claims = await verifiedClaims(answer.slice("Bearer ".length), this.#key, this.#verify);
    return { user: userFromClaims(claims), exp: claims.exp ?? 0 };
  }
}

/** Where {@link requestAuthenticator} gets the user from. */
export type RequestAuthenticatorSource =
  | AuthClient
  | (VerifyOptions & { readonly key: VerificationKey });

/**
 * A `(Request) => Promise<User>` for any framework built on web `Request`.
 * Given an {@link AuthClient}, it sends the request's `Authorization` to the
 * gateway; given a key and issuer, it verifies the gateway's JWT that the
 * ingress forwarded (`Authorization: Bearer <JWT>`). Throws {@link AuthError}
 * (`status` and `headers` are the answer to give) when there is no user.
 */
export function requestAuthenticator(
  source: RequestAuthenticatorSource,
): (request: Request) => Promise<User> {
  return (request: Request): Promise<User> => {
    const header = request.headers.get("authorization");
    if (header === null || header === "") {
      return Promise.reject(new AuthError("unauthorized", "no Authorization header"));
    }
    if (source instanceof AuthClient) return source.authenticate(header);
    if (!header.startsWith("Bearer ")) {
      return Promise.reject(new AuthError("unauthorized", "expected Authorization: Bearer"));
    }
    return verifyToken(header.slice("Bearer ".length), source.key, source);
  };
}
