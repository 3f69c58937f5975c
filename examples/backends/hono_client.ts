/**
 * A Hono backend behind Auth-O-Tron with `@authotron/client` (docs/backends.md):
 * every `/api/*` request needs the gateway's JWT (forwarded by the ingress),
 * verified against the gateway's JWKS. Outside this repository import
 * `@authotron/client` from JSR (Deno) or npm, and `hono` from npm.
 *
 * @module
 */

import { Hono } from "hono";
import { AuthError, requestAuthenticator, type User } from "@authotron/client";

/** The app for the gateway at `gatewayUrl` with `jwt.iss` = `issuer`: `GET /api/whoami`. */
export function createApp(gatewayUrl: string, issuer: string): Hono<{ Variables: { user: User } }> {
  const jwksUrl = `${gatewayUrl}/.well-known/jwks.json`;
  const authenticate = requestAuthenticator({ key: { jwksUrl }, issuer });
  const app = new Hono<{ Variables: { user: User } }>();
  app.use("/api/*", async (c, next) => {
    try {
      c.set("user", await authenticate(c.req.raw));
    } catch (error) {
      if (!(error instanceof AuthError)) throw error;
      return c.json({ error: error.code }, error.status, error.headers);
    }
    await next();
  });
  app.get("/api/whoami", (c) => c.json(c.get("user")));
  return app;
}
