/**
 * Checks on token-route requests: the cross-site guard, and the parameters
 * of a token creation (`expires_in`, `name`) from the query string or, for
 * `POST /tokens`, a small JSON body with exactly those keys.
 *
 * @module
 */

import type { StoreConfig } from "../config/types.ts";

/** Longest accepted token name, in characters. */
export const MAX_NAME_LENGTH = 100;
const MAX_BODY_BYTES = 4096;
const SECONDS = /^[1-9][0-9]{0,11}$/;
const CONTROL = /[\p{Cc}\p{Cf}\u2028\u2029]/u;

/** Validated parameters of a token creation. */
export interface CreateParams {
  /** Lifetime in seconds, already capped by `store.max_ttl`. */
  readonly ttlSeconds: number;
  /** Optional label. */
  readonly name?: string;
}

/** A rejected request: the status and a message safe to show the client. */
export interface RequestProblem {
  /** Marks the value as a rejection. */
  readonly problem: true;
  /** 400, 413 or 415. */
  readonly status: number;
  /** Explains what to fix. */
  readonly error: string;
}

/**
 * True when a browser sent the request from another site: `Sec-Fetch-Site`
 * is `cross-site` or `same-site`, or `Origin` is present and does not name
 * the `Host` the request was sent to (or the `X-Forwarded-Host`, read only
 * when `trustForwardedHost`: the peer is one of `trusted_proxies`).
 */
export function isCrossSite(headers: Headers, trustForwardedHost: boolean): boolean {
  const site = headers.get("sec-fetch-site")?.toLowerCase();
  if (site === "cross-site" || site === "same-site") return true;
  const origin = headers.get("origin");
  if (origin === null) return false;
  let host: string;
  try {
    host = new URL(origin).host.toLowerCase();
  } catch {
    return true; // "null" or garbage: an opaque origin is never ours
  }
  if (host === headers.get("host")?.toLowerCase()) return false;
  if (!trustForwardedHost) return true;
  return host !== headers.get("x-forwarded-host")?.split(",")[0]?.trim().toLowerCase();
}

// Fetch-metadata values of a request a page can make without CORS: `<img>`,
// `<script>`, `<link>`, `<iframe>`, `fetch(…, { mode: "no-cors" })`, ….
const SIMPLE_MODES = new Set(["no-cors", "websocket"]);
const SCRIPTED_OR_TOP_LEVEL_DESTS = new Set(["empty", "document"]);

/**
 * True when `GET /token` comes from a browser context that must not create a
 * token (docs/tokens.md, "GET /token and browsers"): fetch metadata naming a
 * no-cors request or a subresource (`Sec-Fetch-Mode: no-cors`,
 * `Sec-Fetch-Dest: image`, …), or a browser `User-Agent` (`Mozilla/…`) sent
 * without any fetch metadata, as browsers too old to send it do. curl, HTTP
 * libraries and the original's clients send neither and keep working.
 */
export function isBrowserSubresource(headers: Headers): boolean {
  const mode = headers.get("sec-fetch-mode")?.toLowerCase();
  const dest = headers.get("sec-fetch-dest")?.toLowerCase();
  if (mode !== undefined && SIMPLE_MODES.has(mode)) return true;
  if (dest !== undefined && !SCRIPTED_OR_TOP_LEVEL_DESTS.has(dest)) return true;
  if (mode !== undefined || dest !== undefined || headers.has("sec-fetch-site")) return false;
  return headers.get("user-agent")?.startsWith("Mozilla/") ?? false;
}

function problem(status: number, error: string): RequestProblem {
  return { problem: true, status, error };
}

/** True when `value` is a {@link RequestProblem}. */
export function isProblem(value: unknown): value is RequestProblem {
  return typeof value === "object" && value !== null && (value as RequestProblem).problem === true;
}

function parseTtl(value: unknown, store: StoreConfig): number | RequestProblem {
  const text = typeof value === "number" ? String(value) : value;
  if (typeof text !== "string" || !SECONDS.test(text)) {
    return problem(400, "expires_in must be a positive whole number of seconds");
  }
  return Math.min(Number(text), store.maxTtl);
}

function parseName(value: unknown): string | RequestProblem {
  if (typeof value !== "string" || value.length === 0 || value.length > MAX_NAME_LENGTH) {
    return problem(400, `name must be 1 to ${MAX_NAME_LENGTH} characters`);
  }
  if (CONTROL.test(value)) {
    return problem(400, "name must not contain control characters");
  }
  return value;
}

/** The whole body, or `undefined` (and the stream cancelled) once it exceeds the cap. */
async function readCapped(
  body: ReadableStream<Uint8Array> | null,
): Promise<Uint8Array | undefined> {
  const out = new Uint8Array(MAX_BODY_BYTES);
  let length = 0;
  if (body === null) return out.subarray(0, 0);
  const reader = body.getReader();
  while (true) {
    const { value, done } = await reader.read();
    if (done) return out.subarray(0, length);
    if (length + value.length > MAX_BODY_BYTES) {
      await reader.cancel();
      return undefined;
    }
    out.set(value, length);
    length += value.length;
  }
}

async function readJsonBody(req: Request): Promise<Record<string, unknown> | RequestProblem> {
  const bytes = await readCapped(req.body);
  if (bytes === undefined) {
    return problem(413, `the request body must be at most ${MAX_BODY_BYTES} bytes`);
  }
  if (bytes.length === 0) return {};
  const type = req.headers.get("content-type")?.split(";")[0]?.trim().toLowerCase();
  if (type !== "application/json") return problem(415, "the request body must be application/json");
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    return problem(400, "the request body is not valid JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return problem(400, "the request body must be a JSON object");
  }
  const unknown = Object.keys(parsed).filter((k) => k !== "name" && k !== "expires_in");
  if (unknown.length > 0) {
    return problem(400, "only the keys name and expires_in are accepted");
  }
  return parsed as Record<string, unknown>;
}

/** Reads `expires_in` and `name` (query, or JSON body for POST); a problem when invalid. */
export async function readCreateParams(
  req: Request,
  store: StoreConfig,
): Promise<CreateParams | RequestProblem> {
  const query = new URL(req.url).searchParams;
  const fields: Record<string, unknown> = {};
  for (const key of ["expires_in", "name"]) {
    const values = query.getAll(key);
    if (values.length > 1) {
      return problem(400, `${key} must be given at most once`);
    }
    if (values.length === 1) fields[key] = values[0];
  }
  const body = await readJsonBody(req);
  if (isProblem(body)) return body;
  for (const [key, value] of Object.entries(body)) {
    if (key in fields) return problem(400, `${key} given both in the query and the body`);
    fields[key] = value;
  }
  const ttl = fields.expires_in === undefined
    ? store.defaultTtl
    : parseTtl(fields.expires_in, store);
  if (isProblem(ttl)) return ttl;
  if (fields.name === undefined) return { ttlSeconds: ttl };
  const name = parseName(fields.name);
  return isProblem(name) ? name : { ttlSeconds: ttl, name };
}
