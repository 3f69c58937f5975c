/**
 * Strict reading of identity-service answers for the remote providers: the
 * body must be a JSON object, otherwise the service is broken and the
 * provider cannot decide ({@link UpstreamUnavailableError}, never a verdict).
 *
 * @module
 */

import { type UpstreamResponse, UpstreamUnavailableError } from "../../lib/plugin.ts";

/** The body as a JSON object; throws `invalid_response` for anything else. */
export function jsonObject(res: UpstreamResponse): Record<string, unknown> {
  const body = res.json();
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new UpstreamUnavailableError(
      `upstream answered ${res.status} with JSON that is not an object`,
      "invalid_response",
    );
  }
  return body as Record<string, unknown>;
}

/**
 * Fails when the service refused our own client credentials (401 or 403 on
 * an endpoint where the gateway authenticates as a client): every token
 * would fail, so this is a misconfiguration or outage, not a verdict.
 */
export function assertClientAccepted(res: UpstreamResponse, endpoint: string): void {
  if (res.status === 401 || res.status === 403) {
    throw new UpstreamUnavailableError(
      `${endpoint} refused the gateway's client credentials (${res.status}); check the client id and secret`,
      "client_rejected",
    );
  }
}
