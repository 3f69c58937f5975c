/**
 * Request ids: an incoming `X-Request-Id` is kept when it is a sane token
 * (1–128 characters of letters, digits and `._:-`, as NGINX's `$request_id`,
 * a UUID or a trace id are), otherwise one is generated. The id is echoed on
 * the response and carried by every log line of the request.
 *
 * @module
 */

import { runWithRequestId } from "../observability/log.ts";

/** The header carrying the id, both ways. */
export const REQUEST_ID_HEADER = "x-request-id";

const SANE = /^[A-Za-z0-9._:-]{1,128}$/;

/** The request's id: its `X-Request-Id` when sane, else a new random UUID. */
export function requestIdOf(req: Request): string {
  const given = req.headers.get(REQUEST_ID_HEADER);
  return given !== null && SANE.test(given) ? given : crypto.randomUUID();
}

function tagged(response: Response, id: string): Response {
  try {
    response.headers.set(REQUEST_ID_HEADER, id);
    return response;
  } catch {
    // Immutable headers (a Response.error() or a fetched response): copy it.
    const copy = new Response(response.body, response);
    copy.headers.set(REQUEST_ID_HEADER, id);
    return copy;
  }
}

/**
 * Wraps a handler: each request runs with its id as the log context, and the
 * response carries `X-Request-Id`. A synchronous response stays synchronous.
 */
export function withRequestIds<I>(
  handler: (req: Request, info: I) => Response | Promise<Response>,
): (req: Request, info: I) => Response | Promise<Response> {
  return (req, info) => {
    const id = requestIdOf(req);
    const result = runWithRequestId(id, () => handler(req, info));
    return result instanceof Response ? tagged(result, id) : result.then((r) => tagged(r, id));
  };
}
