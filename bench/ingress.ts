/**
 * The ingresses of the `nginx`, `nginx-x2` and `caddy` cases: Debian's nginx
 * or caddy running the shipped example config (examples/nginx/nginx.conf,
 * examples/caddy/Caddyfile) in a temp dir, via the same helpers as the
 * end-to-end tests. Throws `MissingBinaryError` when the program is missing.
 *
 * @module
 */

import { startCaddy } from "../tests/support/caddy.ts";
import {
  CADDY_EXAMPLE,
  NGINX_EXAMPLE,
  renderCaddyExample,
  renderNginxExample,
} from "../tests/support/examples.ts";
import { startNginx } from "../tests/support/nginx.ts";

/** A running ingress. */
export interface Ingress extends AsyncDisposable {
  /** Its port on 127.0.0.1. */
  readonly port: number;
}

/** Starts `kind` with its example config in front of `gateways` and `backend` (`host:port`). */
export async function startIngress(
  kind: "nginx" | "caddy",
  gateways: readonly string[],
  backend: string,
): Promise<Ingress> {
  if (kind === "nginx") {
    const template = await Deno.readTextFile(NGINX_EXAMPLE);
    // The access log would cost NGINX a write per request: the bench measures without it.
    const server = await startNginx(({ port }) =>
      renderNginxExample(template, { port, gateways, backend })
        .replace(/access_log [^;]+;/, "access_log off;")
    );
    return { port: server.port, [Symbol.asyncDispose]: () => server.stop() };
  }
  const template = await Deno.readTextFile(CADDY_EXAMPLE);
  const server = await startCaddy(({ port }) =>
    renderCaddyExample(template, { port, gateways, backend })
  );
  return { port: server.port, [Symbol.asyncDispose]: () => server.stop() };
}
