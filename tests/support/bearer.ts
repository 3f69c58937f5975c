/**
 * Helpers for end-to-end tests of the Bearer providers: a gateway config with
 * an `auth` section, and one `/authenticate` call returning the status and
 * the decoded JWT the gateway issued.
 *
 * @module
 */

import { decodeJwt, type JWTPayload } from "jose";
import { testConfig, type TestGateway } from "./gateway.ts";

/** `auth` settings for {@link bearerConfig}. */
export interface AuthSettings {
  /** `auth.timeout_in_ms` (default 5000). */
  readonly timeoutMs?: number;
  /** `auth.upstream_failure_status` (default 503). */
  readonly upstreamFailureStatus?: 401 | 503;
  /** `auth.decision_cache_ttl_ms` (default 0 here: provider tests see every request). */
  readonly decisionCacheTtlMs?: number;
}

/** A test config with `providers` (YAML list items, indented by two) and an `auth` section. */
export function bearerConfig(providers: string, auth: AuthSettings = {}): string {
  return testConfig(`auth:
  timeout_in_ms: ${auth.timeoutMs ?? 5000}
  upstream_failure_status: ${auth.upstreamFailureStatus ?? 503}
  decision_cache_ttl_ms: ${auth.decisionCacheTtlMs ?? 0}
providers:
${providers}`);
}

/** What `/authenticate` answered. */
export interface BearerResult {
  /** HTTP status. */
  readonly status: number;
  /** The issued JWT's claims on 200. */
  readonly claims?: JWTPayload;
  /** `Retry-After`, if any. */
  readonly retryAfter: string | null;
  /** `WWW-Authenticate`, if any. */
  readonly challenge: string | null;
}

/** Calls `/authenticate` with `Bearer <token>` (and `X-Auth-Realm` when given). */
export async function authenticateBearer(
  gw: TestGateway,
  token: string,
  realm?: string,
): Promise<BearerResult> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (realm !== undefined) headers["x-auth-realm"] = realm;
  const { res } = await gw.request("/authenticate", { headers });
  const issued = res.headers.get("authorization");
  return {
    status: res.status,
    ...(res.status === 200 && issued ? { claims: decodeJwt(issued.replace(/^Bearer /, "")) } : {}),
    retryAfter: res.headers.get("retry-after"),
    challenge: res.headers.get("www-authenticate"),
  };
}

/** Each token's statuses from `gateways` asked in turn (tokens run concurrently). */
export function statusesInTurn(
  gateways: readonly TestGateway[],
  tokens: readonly string[],
): Promise<{ token: string; statuses: number[] }[]> {
  return Promise.all(tokens.map(async (token) => {
    const statuses: number[] = [];
    for (const gateway of gateways) {
      statuses.push((await authenticateBearer(gateway, token)).status);
    }
    return { token, statuses };
  }));
}

/** Prints a measured number (e.g. upstream calls in a single-flight test) to stderr. */
export function reportMeasurement(label: string, value: number): void {
  Deno.stderr.writeSync(new TextEncoder().encode(`MEASURED ${label}: ${value}\n`));
}
