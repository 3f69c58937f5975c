/**
 * The application listener's routes (spec 3.2–3.10): landing page, static
 * files, health, `/authenticate`, `/whoami`, `/providers`, `/augmenters`.
 *
 * @module
 */

import type { StaticAssets } from "./assets.ts";
import type { Config } from "../config/types.ts";
import { readAsciiHeader, readRealmHeader, visibleAscii } from "../auth/credentials.ts";
import type { TokenIssuer } from "../jwt/issuer.ts";
import type { Authenticator, ResponseReuse } from "../auth/decision_cache.ts";
import type { AuthOutcome } from "../auth/pipeline.ts";
import type { ResolvedUser } from "../plugin.ts";
import type { Route, RouteContext, RouteHandler } from "./router.ts";
import { resolveClientAddress } from "../auth/throttle.ts";
import { userToJson } from "../../packages/plugin/_host/user.ts";

const encoder = new TextEncoder();
const UNAUTHORIZED_BODY = encoder.encode(`{"error": "Unauthorized access"}`);
const UNAVAILABLE_BODY = encoder.encode(
  `{"error": "Authentication service temporarily unavailable"}`,
);
const AUTHENTICATED_BODY = encoder.encode("Authenticated successfully");
const OK_BODY = encoder.encode("OK");

/** Seconds a client should wait after a 503 caused by an upstream outage. */
export const RETRY_AFTER_SECONDS = 5;

/** A user authenticated for a route, or the response to send instead. */
export type Authenticated =
  | { readonly user: ResolvedUser; readonly response?: undefined }
  | { readonly user?: undefined; readonly response: Response };

/** What the routes need from the gateway. */
export interface AppRouteDeps {
  /** The resolved config. */
  readonly config: Config;
  /** Runs providers and augmenters (behind the decision cache). */
  readonly pipeline: Authenticator;
  /** Signs the downstream JWT. */
  readonly issuer: TokenIssuer;
  /** The `WWW-Authenticate` challenge of every 401. */
  readonly challenge: string;
  /** Landing page, logo, favicon. */
  readonly assets: StaticAssets;
  /** `/providers` and `/augmenters` bodies, built once. */
  readonly listings: { readonly providers: string; readonly augmenters: string };
  /** Reuses the `/authenticate` response of a cached decision (the decision cache). */
  readonly responses?: ResponseReuse;
}

/** `200 OK` with the body `OK` and no content type (spec 3.10). */
export function healthResponse(): Response {
  return new Response(OK_BODY);
}

/**
 * The 401 of spec 3.4, or the upstream-failure answer (503 with `Retry-After`).
 * `head`: the answer to a `HEAD`, built without a body (nothing for the router to cancel).
 */
export function failureResponse(
  outcome: Extract<AuthOutcome, { ok: false }>,
  challenge: string,
  upstreamFailureStatus: 401 | 503,
  head = false,
): Response {
  if (outcome.reason === "upstream_unavailable" && upstreamFailureStatus === 503) {
    return new Response(head ? null : UNAVAILABLE_BODY, {
      status: 503,
      headers: {
        "content-type": "application/json",
        "retry-after": String(RETRY_AFTER_SECONDS),
        "www-authenticate": challenge,
      },
    });
  }
  const templates = head ? UNAUTHORIZED_HEAD : UNAUTHORIZED;
  let template = templates.get(challenge);
  if (template === undefined) {
    template = new Response(head ? null : UNAUTHORIZED_BODY, {
      status: 401,
      headers: { "content-type": "application/json", "www-authenticate": challenge },
    });
    if (templates.size < 16) templates.set(challenge, template);
  }
  // A clone skips re-validating the headers (the challenge can be long).
  const response = template.clone();
  if (outcome.retryAfterS !== undefined) {
    response.headers.set("retry-after", String(outcome.retryAfterS));
  }
  return response;
}

// The 401 per challenge (one per gateway; a few in tests), never sent itself.
const UNAUTHORIZED = new Map<string, Response>();
// The same without a body, for HEAD.
const UNAUTHORIZED_HEAD = new Map<string, Response>();

const HEADER_SAFE = /^[\x20-\x7e]*$/;

/** A value safe for a response header: visible ASCII as is, anything else percent-encoded. */
function headerSafe(value: string): string {
  return HEADER_SAFE.test(value) ? value : encodeURIComponent(value);
}

/** The TCP peer address of a request, for logs (`X-Forwarded-For` is not used). */
export function clientIp(ctx: RouteContext | undefined): string | undefined {
  const addr = ctx?.info?.remoteAddr;
  return addr && "hostname" in addr ? addr.hostname : undefined;
}

/**
 * The client's address: the TCP peer, or the `X-Real-IP` a trusted proxy
 * (`auth.brute_force.trusted_proxies`) set. Keys the brute-force limits.
 */
export function clientAddress(
  req: Request,
  config: Config,
  ctx: RouteContext | undefined,
): string | undefined {
  const proxies = config.auth.bruteForce.trustedProxies;
  // X-Real-IP only counts from a trusted proxy: without any, it is not even read.
  const realIp = proxies.length > 0 ? readAsciiHeader(req.headers, "x-real-ip") : undefined;
  return resolveClientAddress(clientIp(ctx), realIp, proxies);
}

/** Authenticates a request, answering 401/503 itself when that fails. */
function authenticateRequest(
  req: Request,
  deps: Pick<AppRouteDeps, "pipeline" | "challenge" | "config">,
  ctx?: RouteContext,
): Promise<Authenticated> {
  return authenticateWith(
    deps,
    readAsciiHeader(req.headers, "authorization"),
    readRealmHeader(req.headers.get("x-auth-realm")),
    clientAddress(req, deps.config, ctx),
  );
}

/** {@link authenticateRequest} with the request's headers and address already read. */
async function authenticateWith(
  deps: Pick<AppRouteDeps, "pipeline" | "challenge" | "config">,
  authorization: string | undefined,
  realm: string | undefined,
  address: string | undefined,
): Promise<Authenticated> {
  return authenticated(deps, await deps.pipeline.authenticate(authorization, realm, address));
}

/** The user of a successful outcome, or the 401/503 response of a failed one. */
function authenticated(
  deps: Pick<AppRouteDeps, "challenge" | "config">,
  outcome: AuthOutcome,
  head = false,
): Authenticated {
  if (outcome.ok) return { user: outcome.user };
  const { upstreamFailureStatus } = deps.config.auth;
  return { response: failureResponse(outcome, deps.challenge, upstreamFailureStatus, head) };
}

/**
 * The `/authenticate` handler (spec 3.4): 200 with `Authorization: Bearer
 * <jwt>` (and the legacy `X-Auth-*` headers when configured), or 401/503.
 */
export function authenticateHandler(deps: AppRouteDeps): RouteHandler {
  const { issuer, config } = deps;
  const respond = (user: ResolvedUser, token: string, head: boolean) => {
    const build = () => {
      // Headers set on the built response: a body and a headers init together
      // cost ~10 µs more in the Response constructor (measured in Deno 2.9).
      // HEAD gets no body at all: the router would have to cancel its stream.
      const response = new Response(head ? null : AUTHENTICATED_BODY);
      const { headers } = response;
      headers.set("authorization", `Bearer ${token}`);
      if (config.includeLegacyHeaders) {
        headers.set("x-auth-username", headerSafe(user.username));
        headers.set("x-auth-realm", headerSafe(user.realm));
        headers.set("x-auth-roles", headerSafe(user.roles.join(",")));
      }
      return response;
    };
    return deps.responses?.respond(user, token, build, head) ?? build();
  };
  const decided = (outcome: AuthOutcome, head: boolean): Response | Promise<Response> => {
    const auth = authenticated(deps, outcome, head);
    if (!auth.user) return auth.response;
    const user = auth.user;
    const token = issuer.issue(user);
    return typeof token === "string"
      ? respond(user, token, head)
      : token.then((t) => respond(user, t, head));
  };
  // Synchronous from end to end when the decision and the signature are (one
  // synchronous provider, no augmenter, HS256): no promise turn at all.
  const authenticate = (
    authorization: string | undefined,
    realm: string | undefined,
    address: string | undefined,
    head: boolean,
  ) => {
    const outcome = deps.pipeline.authenticate(authorization, realm, address);
    return outcome instanceof Promise
      ? outcome.then((settled) => decided(settled, head))
      : decided(outcome, head);
  };
  // A cached decision is answered synchronously (no promise turn in Deno.serve).
  // The cache is asked with the raw header values: it only ever stored values
  // that passed readAsciiHeader(), so a value that would fail it cannot hit, and
  // the visible-ASCII scan (~0.3 µs per request when served) runs on misses only.
  return (req: Request, ctx: RouteContext) => {
    const rawAuthorization = req.headers.get("authorization");
    const rawRealm = req.headers.get("x-auth-realm");
    const address = clientAddress(req, config, ctx);
    const head = req.method === "HEAD";
    const cached = deps.responses?.cachedResponse(
      rawAuthorization ?? undefined,
      rawRealm ?? undefined,
      address,
      ctx.started,
      head,
    );
    if (cached !== undefined) return cached;
    return authenticate(visibleAscii(rawAuthorization), readRealmHeader(rawRealm), address, head);
  };
}

/** The routes of the application listener. */
export function appRoutes(deps: AppRouteDeps): Route[] {
  const { assets, listings } = deps;
  const json = { "content-type": "application/json" };
  return [
    {
      pattern: "/",
      methods: {
        GET: () =>
          new Response(assets.indexHtml, {
            headers: { "content-type": "text/html; charset=utf-8" },
          }),
      },
    },
    {
      pattern: "/static/logo.png",
      methods: {
        GET: () => new Response(assets.logoPng, { headers: { "content-type": "image/png" } }),
      },
    },
    {
      pattern: "/favicon.ico",
      methods: {
        GET: () => new Response(assets.faviconIco, { headers: { "content-type": "image/x-icon" } }),
      },
    },
    { pattern: "/health", methods: { GET: healthResponse } },
    { pattern: "/authenticate", methods: { GET: authenticateHandler(deps) } },
    {
      pattern: "/whoami",
      methods: {
        GET: async (req: Request, ctx: RouteContext) => {
          const auth = await authenticateRequest(req, deps, ctx);
          if (!auth.user) return auth.response;
          return new Response(userToJson(auth.user), {
            headers: { ...json, "cache-control": "no-store" },
          });
        },
      },
    },
    {
      pattern: "/providers",
      methods: { GET: () => new Response(listings.providers, { headers: json }) },
    },
    {
      pattern: "/augmenters",
      methods: { GET: () => new Response(listings.augmenters, { headers: json }) },
    },
  ];
}
