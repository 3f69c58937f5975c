/**
 * A protected backend for ingress tests: it trusts nothing but the gateway's
 * HS256 JWT in `Authorization`, verifies it with jose, counts every request
 * (and every request that arrived without a valid JWT), and echoes the
 * identity plus any identity-looking headers it received.
 *
 * @module
 */

import { jwtVerify } from "jose";

/** What the backend answers to an authenticated request. */
export interface BackendEcho {
  /** `username` claim of the verified JWT. */
  readonly username: string;
  /** `realm` claim. */
  readonly realm: string;
  /** `roles` claim. */
  readonly roles: string[];
  /** Request path as the backend saw it. */
  readonly path: string;
  /** Every `x-auth-*` request header the backend received (name → value). */
  readonly identityHeaders: Record<string, string>;
}

/** A running backend. */
export interface JwtBackend extends AsyncDisposable {
  /** `host:port` to proxy to. */
  readonly hostPort: string;
  /** Requests received so far. */
  readonly received: () => number;
  /** Requests received without a valid gateway JWT (must stay 0 behind an ingress). */
  readonly rejected: () => number;
}

/** Serves the backend on 127.0.0.1 with an OS-chosen port. */
export function startJwtBackend(secret: string, issuer: string): JwtBackend {
  const key = new TextEncoder().encode(secret);
  let received = 0;
  let rejected = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    received++;
    const header = req.headers.get("authorization") ?? "";
    const token = header.startsWith("Bearer ") ? header.slice(7) : "";
    try {
      const { payload } = await jwtVerify(token, key, { algorithms: ["HS256"], issuer });
      const identityHeaders: Record<string, string> = {};
      for (const [name, value] of req.headers) {
        if (name.startsWith("x-auth-")) identityHeaders[name] = value;
      }
      const echo: BackendEcho = {
        username: String(payload.username),
        realm: String(payload.realm),
        roles: payload.roles as string[],
        path: new URL(req.url).pathname,
        identityHeaders,
      };
      return Response.json(echo);
    } catch {
      rejected++;
      return new Response("backend: no valid gateway JWT\n", { status: 403 });
    }
  });
  return {
    hostPort: `127.0.0.1:${server.addr.port}`,
    received: () => received,
    rejected: () => rejected,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}
