/**
 * The self-service token page: `GET /tokens/manage` and its script and
 * stylesheet, read once at startup from `assets/`. The page calls the JSON
 * token API (`GET/POST /tokens`, `DELETE /token/{id}`) from the browser with
 * the credential in `Authorization`; it adds no privileged route. Registered
 * only when `store.enabled` (404 otherwise).
 *
 * @module
 */

import type { StoreConfig } from "../config/types.ts";
import type { Route } from "./router.ts";

/** The page's path, linked from the landing page. */
export const TOKEN_PAGE_PATH = "/tokens/manage";

/**
 * The page's Content-Security-Policy: nothing but its own script, stylesheet,
 * images and API calls; no inline script or style, no framing, no form
 * submission (the forms are handled by the script, so a credential can never
 * end up in a URL or a request body sent by the browser itself).
 */
export const TOKEN_PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

/** Headers on every answer of the page's routes. */
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": TOKEN_PAGE_CSP,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
};

/** The page's files, ready to serve. */
export interface TokenPageAssets {
  /** `GET /tokens/manage` (UTF-8 HTML with the lifetime choices filled in). */
  readonly html: Uint8Array<ArrayBuffer>;
  /** `GET /static/tokens.js`. */
  readonly script: Uint8Array<ArrayBuffer>;
  /** `GET /static/tokens.css`. */
  readonly stylesheet: Uint8Array<ArrayBuffer>;
}

const DAY = 86_400;
/** Lifetimes offered besides `store.default_ttl` and `store.max_ttl`. */
const USUAL_LIFETIMES = [DAY, 7 * DAY, 30 * DAY, 90 * DAY, 365 * DAY];
const UNITS: readonly [number, string][] = [[DAY, "day"], [3_600, "hour"], [60, "minute"]];

/** `86400` → `1 day`, `600` → `10 minutes`, `90` → `90 seconds`. */
export function describeLifetime(seconds: number): string {
  const [size, unit] = UNITS.find(([size]) => seconds % size === 0) ?? [1, "second"];
  const count = seconds / size;
  return `${count} ${unit}${count === 1 ? "" : "s"}`;
}

/**
 * The `<option>`s of the Lifetime field: the usual lifetimes up to
 * `store.max_ttl`, plus the default and the maximum, shortest first, the
 * default selected (the config loader ensures `default_ttl <= max_ttl`).
 */
export function lifetimeOptions(store: Pick<StoreConfig, "defaultTtl" | "maxTtl">): string {
  const choices = new Set(USUAL_LIFETIMES.filter((s) => s <= store.maxTtl));
  choices.add(store.defaultTtl).add(store.maxTtl);
  return [...choices].sort((a, b) => a - b).map((seconds) => {
    const selected = seconds === store.defaultTtl ? " selected" : "";
    return `<option value="${seconds}"${selected}>${describeLifetime(seconds)}</option>`;
  }).join("");
}

/** Reads the page's files from `assets/` and fills in the lifetime choices. */
export async function loadTokenPage(store: StoreConfig): Promise<TokenPageAssets> {
  const base = new URL("../../assets/", import.meta.url);
  const [html, script, stylesheet] = await Promise.all([
    Deno.readTextFile(new URL("tokens.html", base)),
    Deno.readFile(new URL("tokens.js", base)),
    Deno.readFile(new URL("tokens.css", base)),
  ]);
  const filled = html.replace(/\{\{\s*lifetime_options\s*\}\}/g, lifetimeOptions(store));
  return { html: new TextEncoder().encode(filled), script, stylesheet };
}

function serve(body: Uint8Array<ArrayBuffer>, type: string, cacheControl: string): () => Response {
  return () =>
    new Response(body, {
      headers: { ...SECURITY_HEADERS, "content-type": type, "cache-control": cacheControl },
    });
}

/**
 * The page's routes. The page itself is `no-store` so a signed-in page is
 * never restored from a cache; its script and stylesheet are revalidated.
 */
export function tokenPageRoutes(page: TokenPageAssets): Route[] {
  return [
    {
      pattern: TOKEN_PAGE_PATH,
      methods: { GET: serve(page.html, "text/html; charset=utf-8", "no-store") },
    },
    {
      pattern: "/static/tokens.js",
      methods: { GET: serve(page.script, "text/javascript; charset=utf-8", "no-cache") },
    },
    {
      pattern: "/static/tokens.css",
      methods: { GET: serve(page.stylesheet, "text/css; charset=utf-8", "no-cache") },
    },
  ];
}
