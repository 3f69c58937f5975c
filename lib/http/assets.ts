/**
 * The landing page, logo and favicon, read once at startup from `assets/`.
 *
 * @module
 */

import { VERSION } from "../config/types.ts";

/** The static files the application listener serves. */
export interface StaticAssets {
  /** `GET /` body (UTF-8 HTML with the version filled in). */
  readonly indexHtml: Uint8Array<ArrayBuffer>;
  /** `GET /static/logo.png`. */
  readonly logoPng: Uint8Array<ArrayBuffer>;
  /** `GET /favicon.ico`. */
  readonly faviconIco: Uint8Array<ArrayBuffer>;
}

/** Options of {@link loadAssets}. */
export interface AssetOptions {
  /** Link the landing page to this path (the token page, when `store.enabled`). */
  readonly tokenPagePath?: string;
}

/** Reads the assets shipped next to the code. */
export async function loadAssets(options: AssetOptions = {}): Promise<StaticAssets> {
  const base = new URL("../../assets/", import.meta.url);
  const [html, logoPng, faviconIco] = await Promise.all([
    Deno.readTextFile(new URL("index.html", base)),
    Deno.readFile(new URL("logo.png", base)),
    Deno.readFile(new URL("favicon.ico", base)),
  ]);
  return {
    indexHtml: new TextEncoder().encode(
      html.replace(/\{\{\s*version\s*\}\}/g, VERSION).replace(
        /\{\{\s*tokens_link\s*\}\}/g,
        options.tokenPagePath ? `\n        <a href="${options.tokenPagePath}">Your tokens</a>` : "",
      ),
    ),
    logoPng,
    faviconIco,
  };
}
