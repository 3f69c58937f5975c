/**
 * A small router with the original's semantics (spec 3.1): exact paths plus
 * one-segment `{param}` patterns (and a trailing `{rest...}` that takes the
 * rest of the path, undecoded), 404 with an empty body, 405 with `Allow`,
 * `HEAD` served by the `GET` handler without a body, query strings ignored,
 * no trailing-slash redirect. It records the HTTP request metrics with the
 * matched route pattern (or `unmatched`), never the raw path.
 *
 * Folder `lib/http/`: the router and the route modules (app, tokens, ext_authz, JWKS,
 * status, readiness, assets) and token request parsing. May import every other folder; only
 * `lib/gateway.ts` and `lib/server.ts` import it.
 *
 * @module
 */

import { describeError } from "../util/errors.ts";
import type { Logger } from "../observability/log.ts";
import type { GatewayMetrics } from "../observability/metrics.ts";

/** Per-request data a handler gets besides the request. */
export interface RouteContext {
  /** Decoded `{param}` values. */
  readonly params: Readonly<Record<string, string>>;
  /** Connection info from `Deno.serve`, when served over a socket. */
  readonly info: Deno.ServeHandlerInfo | undefined;
  /** `performance.now()` when the router took the request (when it times requests). */
  readonly started?: number;
}

/** Handles one request on a matched route. */
export type RouteHandler = (req: Request, ctx: RouteContext) => Response | Promise<Response>;

/** A route: a pattern and a handler per method. */
export interface Route {
  /** `/exact`, `/prefix/{name}` (one segment) or `/prefix/{name...}` (rest of the path, raw). */
  readonly pattern: string;
  /** Method → handler. */
  readonly methods: Readonly<Partial<Record<string, RouteHandler>>>;
}

/**
 * A request handler for `Deno.serve`: synchronous when the route's handler is
 * (a synchronous answer skips a promise turn in `Deno.serve`).
 */
export type ServeHandler = (
  req: Request,
  info?: Deno.ServeHandlerInfo,
) => Response | Promise<Response>;

interface CompiledRoute {
  readonly route: Route;
  readonly allow: string;
  readonly regex?: RegExp;
  readonly names: readonly string[];
  /** The last name is a `{rest...}` parameter: its value is not percent-decoded. */
  readonly rest: boolean;
}

const NO_PARAMS: Readonly<Record<string, string>> = Object.freeze({});

/** Extracts the path of an absolute request URL without building a `URL`. */
function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  let end = url.length;
  const query = url.indexOf("?", start);
  if (query >= 0) end = query;
  const hash = url.indexOf("#", start);
  if (hash >= 0 && hash < end) end = hash;
  return url.slice(start, end);
}

function compile(route: Route): CompiledRoute {
  const methods = Object.keys(route.methods);
  if (methods.includes("GET") && !methods.includes("HEAD")) methods.push("HEAD");
  const allow = methods.join(",");
  if (!route.pattern.includes("{")) return { route, allow, names: [], rest: false };
  const names: string[] = [];
  const rest = /\{(\w+)\.\.\.\}$/.exec(route.pattern);
  const head = rest ? route.pattern.slice(0, rest.index) : route.pattern;
  const source = head.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(
    /\{(\w+)\}/g,
    (_, name: string) => {
      names.push(name);
      return "([^/]+)";
    },
  );
  if (rest) names.push(rest[1]!);
  const tail = rest ? "(.*)" : "";
  return { route, allow, names, rest: rest !== null, regex: new RegExp(`^${source}${tail}$`) };
}

/** Options of {@link createRouter}. */
export interface RouterOptions {
  /** Where request metrics go; omit to not count (metrics listener). */
  readonly metrics?: GatewayMetrics;
  /** Logs handler crashes (which answer 500 and should never happen). */
  readonly log: Logger;
}

/** Builds the handler for a list of routes. */
export function createRouter(routes: readonly Route[], options: RouterOptions): ServeHandler {
  const exact = new Map<string, CompiledRoute>();
  const patterned: CompiledRoute[] = [];
  for (const route of routes) {
    const compiled = compile(route);
    if (compiled.regex) patterned.push(compiled);
    else exact.set(route.pattern, compiled);
  }
  const { metrics, log } = options;

  function match(
    path: string,
  ): { compiled: CompiledRoute; params: Record<string, string> } | undefined {
    const hit = exact.get(path);
    if (hit) return { compiled: hit, params: NO_PARAMS };
    for (const compiled of patterned) {
      const m = compiled.regex!.exec(path);
      if (!m) continue;
      const params: Record<string, string> = {};
      try {
        compiled.names.forEach((name, i) => {
          const raw = compiled.rest && i === compiled.names.length - 1;
          params[name] = raw ? m[i + 1]! : decodeURIComponent(m[i + 1]!);
        });
      } catch {
        return undefined; // malformed percent-encoding: no such route
      }
      return { compiled, params };
    }
    return undefined;
  }

  function crashed(pattern: string, error: unknown): Response {
    log.error("routes.handler.failed", "request handler failed", {
      route: pattern,
      error: describeError(error),
    });
    return new Response(null, { status: 500 });
  }

  // Synchronous: a cached answer to HEAD (what NGINX and Caddy send) skips a promise turn too.
  function finish(method: string, response: Response): Response {
    if (method !== "HEAD" || response.body === null) return response;
    response.body.cancel().catch(() => {});
    return new Response(null, { status: response.status, headers: response.headers });
  }

  /** Routes one request; `route.pattern` is set to the matched pattern. */
  function dispatch(
    req: Request,
    info: Deno.ServeHandlerInfo | undefined,
    route: { pattern: string },
    started?: number,
  ): Response | Promise<Response> {
    const found = match(pathOf(req.url));
    if (!found) return new Response(null, { status: 404 });
    const { compiled, params } = found;
    const pattern = route.pattern = compiled.route.pattern;
    const method = req.method;
    const handler = compiled.route.methods[method] ??
      (method === "HEAD" ? compiled.route.methods.GET : undefined);
    if (!handler) return new Response(null, { status: 405, headers: { allow: compiled.allow } });
    let result: Response | Promise<Response>;
    try {
      result = handler(req, { params, info, started });
    } catch (error) {
      return crashed(pattern, error);
    }
    if (result instanceof Response) return finish(method, result);
    return Promise.resolve(result).then(
      (response) => finish(method, response),
      (error) => crashed(pattern, error),
    );
  }

  if (!metrics) return (req, info) => dispatch(req, info, { pattern: "unmatched" });
  return (req, info) => {
    const started = performance.now();
    const method = req.method;
    metrics.httpStart(method);
    const route = { pattern: "unmatched" };
    const end = (status: number) =>
      metrics.httpEnd(route.pattern, method, status, (performance.now() - started) / 1000);
    let result: Response | Promise<Response>;
    try {
      result = dispatch(req, info, route, started);
    } catch (error) {
      end(500);
      throw error;
    }
    if (result instanceof Response) {
      end(result.status);
      return result;
    }
    return result.then(
      (response) => {
        end(response.status);
        return response;
      },
      (error: unknown) => {
        end(500);
        throw error;
      },
    );
  };
}
