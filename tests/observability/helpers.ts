/**
 * Helpers for the observability tests: scraping `/metrics` into a map, a
 * small identity upstream, and a port where nothing listens.
 *
 * @module
 */

import assert from "node:assert/strict";
import { assertValidExposition } from "../metrics/exposition.ts";

/** The fixture plugins directory, as a URL prefix for `module:` entries. */
export const FIXTURES = new URL("../fixtures/plugins/", import.meta.url).href;

/** Scrapes `/metrics`, checks the format and content type, returns series → value. */
export async function scrape(metricsUrl: string): Promise<Map<string, number>> {
  const res = await fetch(`${metricsUrl}/metrics`);
  const text = await res.text();
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  return assertValidExposition(text);
}

/** An identity service: `?token=good` → 200 `{username}`, `boom` → 500, else 401. */
export interface Upstream extends AsyncDisposable {
  /** Base URL. */
  readonly url: string;
  /** Every query string received (to prove the token really travelled). */
  readonly seen: string[];
}

/** Starts {@link Upstream} on 127.0.0.1 with an OS-chosen port. */
export function startUpstream(valid: Record<string, string> = { good: "gooduser" }): Upstream {
  const seen: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const token = new URL(req.url).searchParams.get("token") ?? "";
    seen.push(token);
    if (token === "boom" || token.startsWith("boom-")) return new Response("down", { status: 500 });
    const username = valid[token];
    if (username === undefined) return new Response("{}", { status: 401 });
    return Response.json({ username });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/check`,
    seen,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

/** A loopback port where nothing listens (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response(),
  );
  const port = server.addr.port;
  await server.shutdown();
  return port;
}

/** `GET /authenticate` with an Authorization value and an optional realm; body read. */
export async function authenticate(
  baseUrl: string,
  authorization: string | undefined,
  realm?: string,
): Promise<Response> {
  const headers = new Headers();
  if (authorization !== undefined) headers.set("authorization", authorization);
  if (realm !== undefined) headers.set("x-auth-realm", realm);
  const res = await fetch(`${baseUrl}/authenticate`, { headers });
  await res.body?.cancel();
  return res;
}
