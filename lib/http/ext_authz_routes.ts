/**
 * Compatibility route for Envoy's `ext_authz` filter with an HTTP service.
 * Envoy sends the client's request to `<path_prefix><original path>` with the
 * original method and no body; with `path_prefix: /ext_authz` every such
 * call lands here and is answered exactly like `GET /authenticate`. The path
 * and method are ignored: only `Authorization` and `X-Auth-Realm` decide.
 *
 * @module
 */

import type { Route, RouteHandler } from "./router.ts";

/** The methods Envoy may forward (besides `HEAD`, which the router derives from `GET`). */
export const EXT_AUTHZ_METHODS: readonly string[] = [
  "GET",
  "POST",
  "PUT",
  "PATCH",
  "DELETE",
  "OPTIONS",
];

/** `/ext_authz/{path...}` for every method in {@link EXT_AUTHZ_METHODS}, served by `authenticate`. */
export function extAuthzRoutes(authenticate: RouteHandler): Route[] {
  return [{
    pattern: "/ext_authz/{path...}",
    methods: Object.fromEntries(EXT_AUTHZ_METHODS.map((method) => [method, authenticate])),
  }];
}
