/**
 * Request ids: an incoming `X-Request-Id` is kept when it is a sane token
 * (1–128 characters of letters, digits and `._:-`, as NGINX's `$request_id`,
 * a UUID or a trace id are), otherwise one is generated. The id is echoed on
 * the response and carried by every log line of the request, at every level
 * (the gateway runs each request with `runWithRequestId`). A generated id is a
 * `crypto.randomUUID()`: unpredictable, unique across replicas, and about as
 * cheap as a counter (tens of nanoseconds).
 *
 * @module
 */

/** The header carrying the id, both ways. */
export const REQUEST_ID_HEADER = "x-request-id";

const SANE = /^[A-Za-z0-9._:-]{1,128}$/;

/** The request's id: its `X-Request-Id` when sane, else a new random UUID. */
export function requestIdOf(req: Request): string {
  const given = req.headers.get(REQUEST_ID_HEADER);
  return given !== null && SANE.test(given) ? given : crypto.randomUUID();
}

/** `response` with `X-Request-Id: id` (a copy when its headers are immutable). */
export function tagResponse(response: Response, id: string): Response {
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
