/**
 * The shipped ingress examples (examples/nginx/nginx.conf,
 * examples/caddy/Caddyfile) with their `@PLACEHOLDER@`s filled in, as the
 * end-to-end tests and `deno task bench` run them.
 *
 * @module
 */

/** examples/nginx/nginx.conf. */
export const NGINX_EXAMPLE = new URL("../../examples/nginx/nginx.conf", import.meta.url);
/** examples/caddy/Caddyfile. */
export const CADDY_EXAMPLE = new URL("../../examples/caddy/Caddyfile", import.meta.url);

/** Where the ingress listens and what it sends requests to (`host:port` each). */
export interface ExampleTargets {
  /** The port the ingress listens on (127.0.0.1). */
  readonly port: number;
  /** One or two gateway replicas. */
  readonly gateways: readonly string[];
  /** The protected backend. */
  readonly backend: string;
}

function substitute(template: string, values: Record<string, string>): string {
  let text = template;
  for (const [name, value] of Object.entries(values)) text = text.replaceAll(`@${name}@`, value);
  const left = text.match(/@[A-Z_0-9]+@/);
  if (left) throw new Error(`placeholder ${left[0]} is not substituted`);
  return text;
}

/**
 * The NGINX example: `@GATEWAY@` and `@GATEWAY_2@` are the two replicas; with
 * one gateway the `@GATEWAY_2@` line is removed, as the file's header says.
 */
export function renderNginxExample(template: string, targets: ExampleTargets): string {
  const [first, second] = targets.gateways;
  if (first === undefined || targets.gateways.length > 2) {
    throw new Error("the NGINX example takes one or two gateways");
  }
  const text = second === undefined
    ? template.split("\n").filter((line) => !line.includes("@GATEWAY_2@")).join("\n")
    : template;
  return substitute(text, {
    NGINX_PORT: String(targets.port),
    GATEWAY: first,
    ...(second === undefined ? {} : { GATEWAY_2: second }),
    BACKEND: targets.backend,
  });
}

/** The Caddy example: `@GATEWAY@` lists every gateway, separated by spaces. */
export function renderCaddyExample(template: string, targets: ExampleTargets): string {
  return substitute(template, {
    CADDY_PORT: String(targets.port),
    GATEWAY: targets.gateways.join(" "),
    BACKEND: targets.backend,
  });
}
