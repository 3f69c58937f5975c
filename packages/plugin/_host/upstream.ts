/**
 * The one HTTP layer every remote plugin uses to talk to identity services:
 * bounded by the caller's `AbortSignal`, response bodies size-capped, no
 * redirects followed, credentials URL-encoded, and every outcome that is not
 * a real answer (timeout, refused, 5xx, 429, redirect, oversized or
 * unparsable body) turned into an {@link UpstreamUnavailableError}, never a
 * verdict. Connections are reused by Deno's `fetch` pool.
 *
 * @module
 */

import {
  type UpstreamHttp,
  type UpstreamRequest,
  type UpstreamResponse,
  UpstreamUnavailableError,
} from "../mod.ts";

export type { UpstreamHttp, UpstreamRequest, UpstreamResponse };

/** Default cap on a response body. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

function basicHeader(username: string, password: string): string {
  const bytes = new TextEncoder().encode(`${username}:${password}`);
  return `Basic ${btoa(String.fromCharCode(...bytes))}`;
}

async function readCapped(body: ReadableStream<Uint8Array> | null, max: number): Promise<string> {
  if (body === null) return "";
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = body.getReader();
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > max) {
        await reader.cancel();
        throw new UpstreamUnavailableError(`response body larger than ${max} bytes`, "too_large");
      }
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  const joined = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    joined.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(joined);
}

function classify(error: unknown, signal: AbortSignal): UpstreamUnavailableError {
  if (error instanceof UpstreamUnavailableError) return error;
  if (signal.aborted) {
    return new UpstreamUnavailableError("upstream did not answer in time", "timeout", {
      cause: error,
    });
  }
  return new UpstreamUnavailableError(
    `upstream unreachable: ${error instanceof Error ? error.message : String(error)}`,
    "refused",
    {
      cause: error,
    },
  );
}

/** Builds the request URL with encoded query parameters. */
function buildUrl(url: string | URL, query?: Readonly<Record<string, string>>): URL {
  const target = new URL(url);
  for (const [key, value] of Object.entries(query ?? {})) target.searchParams.append(key, value);
  return target;
}

/** Creates the upstream HTTP layer. */
export function createUpstreamHttp(): UpstreamHttp {
  return {
    async request(url, request) {
      const headers = new Headers(request.headers);
      let body: string | undefined;
      if (request.form) {
        headers.set("content-type", "application/x-www-form-urlencoded");
        body = new URLSearchParams(request.form as Record<string, string>).toString();
      } else if (request.json !== undefined) {
        headers.set("content-type", "application/json");
        body = JSON.stringify(request.json);
      }
      if (request.basicAuth) {
        headers.set(
          "authorization",
          basicHeader(request.basicAuth.username, request.basicAuth.password),
        );
      }
      if (!headers.has("accept")) headers.set("accept", "application/json");
      const target = buildUrl(url, request.query);
      const { signal } = request;
      let res: Response;
      let text: string;
      try {
        res = await fetch(target, {
          method: request.method ?? "GET",
          headers,
          body,
          signal,
          redirect: "manual",
        });
        if (res.status >= 300 && res.status < 400 || res.status === 429 || res.status >= 500) {
          await res.body?.cancel();
          const kind = res.status === 429 ? "429" : res.status >= 500 ? "5xx" : "redirect";
          throw new UpstreamUnavailableError(`upstream answered ${res.status}`, kind);
        }
        text = await readCapped(res.body, request.maxBytes ?? DEFAULT_MAX_BODY_BYTES);
      } catch (error) {
        throw classify(error, signal);
      }
      const { status } = res;
      return {
        status,
        headers: res.headers,
        text,
        json() {
          try {
            return JSON.parse(text);
          } catch {
            throw new UpstreamUnavailableError(
              `upstream answered ${status} with a body that is not JSON`,
              "invalid_response",
            );
          }
        },
      };
    },
  };
}

/** Bounds on one provider's upstream requests; 0 turns a bound off. */
export interface UpstreamLimits {
  /** Requests in flight at once (`upstream_max_concurrent`). */
  readonly maxConcurrent: number;
  /** Requests started per second, with a burst of one second's worth (`upstream_max_per_second`). */
  readonly maxPerSecond: number;
}

/** Which bound refused a request. */
export type UpstreamLimitReason = "concurrency" | "rate";

/** The `kind` of the {@link UpstreamUnavailableError} a refused request throws. */
export const LIMITED_KIND = "limited";

/**
 * Wraps `http` for one provider: beyond `maxConcurrent` requests in flight or
 * `maxPerSecond` started per second (a token bucket holding one second's
 * worth), a request fails at once with an {@link UpstreamUnavailableError}
 * of kind {@link LIMITED_KIND} without reaching the upstream (the provider
 * "cannot decide": 503), and `onLimited` is told which bound bit. A flood of
 * distinct garbage credentials thus costs the identity service a bounded
 * load, whatever the number of client addresses.
 */
export function limitUpstream(
  http: UpstreamHttp,
  limits: UpstreamLimits,
  onLimited: (reason: UpstreamLimitReason) => void,
  now: () => number = () => performance.now(),
): UpstreamHttp {
  const { maxConcurrent, maxPerSecond } = limits;
  if (maxConcurrent === 0 && maxPerSecond === 0) return http;
  let inFlight = 0;
  let tokens = maxPerSecond;
  let refilledAt = now();
  const refuse = (reason: UpstreamLimitReason): never => {
    onLimited(reason);
    throw new UpstreamUnavailableError(
      reason === "rate"
        ? `upstream checks limited to ${maxPerSecond} per second`
        : `upstream checks limited to ${maxConcurrent} at once`,
      LIMITED_KIND,
    );
  };
  return {
    async request(url, request) {
      if (maxConcurrent > 0 && inFlight >= maxConcurrent) refuse("concurrency");
      if (maxPerSecond > 0) {
        const time = now();
        tokens = Math.min(maxPerSecond, tokens + (time - refilledAt) * maxPerSecond / 1000);
        refilledAt = time;
        if (tokens < 1) refuse("rate");
        tokens -= 1;
      }
      inFlight++;
      try {
        return await http.request(url, request);
      } finally {
        inFlight--;
      }
    },
  };
}
