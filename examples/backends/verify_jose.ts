/**
 * A backend behind Auth-O-Tron that verifies the gateway's token with jose
 * against the published JWKS (docs/backends.md). Copy it into your service;
 * outside this repository import `npm:jose@^6` instead of `jose`.
 *
 * Run: `AUTHOTRON_URL=http://127.0.0.1:8080 AUTHOTRON_ISSUER=authotron \
 *   deno run --allow-net --allow-env examples/backends/verify_jose.ts`
 *
 * @module
 */

import { createRemoteJWKSet, type JWTPayload, jwtVerify } from "jose";

/** The claims Auth-O-Tron puts in every token (spec 7.2). */
export interface GatewayClaims extends JWTPayload {
  /** The user's name. */
  username: string;
  /** The user's realm. */
  realm: string;
  /** Roles after augmenters. */
  roles: string[];
  /** Provider name → scopes. */
  scopes: Record<string, string[]>;
  /** String attributes. */
  attributes: Record<string, string>;
}

/** What {@link createVerifier} needs. */
export interface VerifierOptions {
  /** The gateway's base URL, e.g. `http://authotron:8080`. */
  readonly gatewayUrl: string;
  /** The gateway's `jwt.iss`. */
  readonly issuer: string;
  /** The gateway's `jwt.audience`, when it sets one. */
  readonly audience?: string;
}

/**
 * Returns a function that verifies `Authorization: Bearer <token>` and
 * resolves the claims, or `null` for a missing, forged or expired token.
 * The JWKS is fetched once and again when an unknown `kid` shows up.
 */
export function createVerifier(options: VerifierOptions) {
  const jwks = createRemoteJWKSet(new URL("/.well-known/jwks.json", options.gatewayUrl));
  return async (req: Request): Promise<GatewayClaims | null> => {
    const header = req.headers.get("authorization") ?? "";
    if (!header.startsWith("Bearer ")) return null;
    try {
      const { payload } = await jwtVerify<GatewayClaims>(header.slice(7), jwks, {
        algorithms: ["EdDSA", "ES256", "RS256"], // pin: never "none", never HS256 here
        issuer: options.issuer,
        audience: options.audience,
        requiredClaims: ["exp", "iat", "sub"],
        clockTolerance: 5,
      });
      return payload;
    } catch {
      return null;
    }
  };
}

if (import.meta.main) {
  const verify = createVerifier({
    gatewayUrl: Deno.env.get("AUTHOTRON_URL") ?? "http://127.0.0.1:8080",
    issuer: Deno.env.get("AUTHOTRON_ISSUER") ?? "authotron",
  });
  Deno.serve({ hostname: "127.0.0.1", port: 9000 }, async (req) => {
    const user = await verify(req);
    if (!user) return new Response("Unauthorized\n", { status: 401 });
    return new Response(`hello ${user.username} (${user.realm}), roles: ${user.roles}\n`);
  });
}
