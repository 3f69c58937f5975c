/**
 * The token routes (spec 3.7 and 8, with the original's defects fixed):
 * `GET /token` and `POST /tokens` create, `GET /tokens` lists,
 * `DELETE /token/{token}` revokes (by secret or id, owner only). With the
 * store disabled every route answers 503 after authentication, as the
 * original does.
 *
 * @module
 */

import { clientAddress, clientIp, failureResponse, RETRY_AFTER_SECONDS } from "./app_routes.ts";
import type { Config } from "../config/types.ts";
import { readAsciiHeader, readRealmHeader } from "../auth/credentials.ts";
import type { AuthPipeline } from "../auth/pipeline.ts";
import type { ResolvedUser } from "../plugin.ts";
import type { Route, RouteContext, RouteHandler } from "./router.ts";
import { TOKEN_PROVIDER_NAME } from "../store/token_setup.ts";
import { ownerOf, TokenQuotaError, type TokenService } from "../store/token_service.ts";
import { StoreUnavailableError, type TokenRecord } from "../store/token_store.ts";
import { isBrowserSubresource, isCrossSite, isProblem, readCreateParams } from "./token_request.ts";
import { isTrustedProxy } from "../auth/throttle.ts";

/** What the token routes need. */
export interface TokenRouteDeps {
  /** The resolved config. */
  readonly config: Config;
  /** Authenticates the caller. */
  readonly pipeline: AuthPipeline;
  /** The `WWW-Authenticate` challenge of a 401. */
  readonly challenge: string;
  /** The token service, or `undefined` when `store.enabled` is false. */
  readonly tokens: TokenService | undefined;
  /** Called after a token was deleted (the decision cache forgets the owner's decisions). */
  readonly onDeleted?: (owner: { readonly username: string; readonly realm: string }) => void;
}

const JSON_HEADERS = { "content-type": "application/json", "cache-control": "no-store" };

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { ...JSON_HEADERS, ...headers } });
}

function iso(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}

function listing(r: TokenRecord) {
  return {
    id: r.id,
    prefix: r.prefix,
    name: r.name ?? null,
    created_at: iso(r.createdAt),
    expires_at: iso(r.expiresAt),
    last_used_at: iso(r.lastUsedAt),
  };
}

type Caller = { user: ResolvedUser; viaToken: boolean } | Response;

async function authenticate(
  req: Request,
  deps: TokenRouteDeps,
  ctx: RouteContext,
): Promise<Caller> {
  const outcome = await deps.pipeline.authenticate(
    readAsciiHeader(req.headers, "authorization"),
    readRealmHeader(req.headers.get("x-auth-realm")),
    clientAddress(req, deps.config, ctx),
  );
  if (outcome.ok) return { user: outcome.user, viaToken: outcome.provider === TOKEN_PROVIDER_NAME };
  return failureResponse(outcome, deps.challenge, deps.config.auth.upstreamFailureStatus);
}

/** Maps store failures to 503 and quota to 429; anything else is a bug (500 by the router). */
function storeFailure(error: unknown): Response {
  if (error instanceof StoreUnavailableError) {
    return json(503, { error: "Token store unavailable" }, {
      "retry-after": String(RETRY_AFTER_SECONDS),
    });
  }
  if (error instanceof TokenQuotaError) return json(429, { error: error.message });
  throw error;
}

/** Which request checks a token route runs before authenticating. */
interface Guards {
  /** Refuse cross-site requests (state-changing routes). */
  readonly csrf: boolean;
  /** Refuse browser no-cors and subresource requests (`GET /token`). */
  readonly simpleGet?: boolean;
}

function guarded(deps: TokenRouteDeps, guards: Guards, handle: TokenHandler): RouteHandler {
  const { tokens } = deps;
  const proxies = deps.config.auth.bruteForce.trustedProxies;
  return async (req, ctx) => {
    if (tokens && guards.csrf) {
      if (isCrossSite(req.headers, isTrustedProxy(clientIp(ctx), proxies))) {
        await req.body?.cancel();
        return json(403, { error: "Cross-site token requests are refused" });
      }
      if (guards.simpleGet && isBrowserSubresource(req.headers)) {
        return json(403, {
          error: "GET /token is refused from browser subresource or no-cors requests; " +
            "use POST /tokens",
        });
      }
    }
    const caller = await authenticate(req, deps, ctx);
    if (caller instanceof Response) {
      await req.body?.cancel();
      return caller;
    }
    if (!tokens) {
      await req.body?.cancel();
      return json(503, { error: "Token store is disabled" });
    }
    // Managing tokens needs the kind of credential creating them needs: a
    // leaked token must not list, or revoke, its owner's other tokens.
    if (caller.viaToken) {
      await req.body?.cancel();
      return json(403, { error: "A token cannot be used to create, list or delete tokens" });
    }
    try {
      return await handle(req, ctx.params, caller.user, tokens);
    } catch (error) {
      return storeFailure(error);
    }
  };
}

type TokenHandler = (
  req: Request,
  params: Readonly<Record<string, string>>,
  user: ResolvedUser,
  tokens: TokenService,
) => Promise<Response>;

/** The three token routes (four with `POST /tokens`), bound to the store or to the disabled stubs. */
export function tokenRoutes(deps: TokenRouteDeps): Route[] {
  const { store } = deps.config;
  const createHandler: TokenHandler = async (req, _params, user, tokens) => {
    const params = await readCreateParams(req, store);
    if (isProblem(params)) return json(params.status, { error: params.error });
    const { token, record } = await tokens.create(user, params.ttlSeconds, params.name);
    return json(200, { token, id: record.id, expires_at: iso(record.expiresAt) });
  };
  const create = guarded(deps, { csrf: true }, createHandler);
  const createByGet = guarded(deps, { csrf: true, simpleGet: true }, createHandler);
  const list = guarded(deps, { csrf: false }, async (_req, _params, user, tokens) => {
    const records = await tokens.list(ownerOf(user));
    return json(200, { tokens: records.map(listing) });
  });
  const remove = guarded(deps, { csrf: true }, async (_req, params, user, tokens) => {
    const owner = ownerOf(user);
    const deleted = await tokens.delete(owner, params.token ?? "");
    if (deleted) deps.onDeleted?.(owner);
    return deleted ? new Response(null, { status: 204 }) : json(404, { error: "Token not found" });
  });
  return [
    // HEAD must not create a token (the router would otherwise run GET for it).
    {
      pattern: "/token",
      methods: {
        GET: createByGet,
        HEAD: () => new Response(null, { status: 405, headers: { allow: "GET" } }),
      },
    },
    { pattern: "/tokens", methods: { GET: list, POST: create } },
    { pattern: "/token/{token}", methods: { DELETE: remove } },
  ];
}
