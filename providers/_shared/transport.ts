/**
 * The transport rule shared by every plugin that talks to an upstream: a
 * plaintext URL (`http://`, or `ldap://` without StartTLS) is refused at
 * startup unless its host is loopback (127.0.0.0/8, `::1`, `localhost`) or
 * the entry sets `allow_insecure_transport: true`, an explicit opt-in for
 * in-cluster plaintext that is logged as a warning when the plugin starts.
 *
 * @module
 */

import { OptionsError, type PluginLogger, type PluginOptions } from "../../lib/plugin.ts";

/** The option key of the opt-in. */
export const ALLOW_INSECURE_TRANSPORT = "allow_insecure_transport";

type Path = readonly (string | number)[];

/** True for `localhost`, an IPv4 address in 127.0.0.0/8 and `::1` (as `URL.hostname` writes them). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return host === "localhost" || host === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * True when `uri` is plaintext (`http:`, or `ldap:` without `startTls`) to a
 * host that is not loopback. Unparsable URIs count as secure: their own
 * parser refuses them.
 */
export function isInsecureTransport(uri: string, startTls = false): boolean {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return false;
  }
  const plain = url.protocol === "http:" || (url.protocol === "ldap:" && !startTls);
  return plain && !isLoopbackHost(url.hostname);
}

/** The `allow_insecure_transport` flag (default false); throws when it is not a boolean. */
function allowed(options: PluginOptions, prefix: Path): boolean {
  const value = options[ALLOW_INSECURE_TRANSPORT];
  if (value === undefined || value === null) return false;
  if (typeof value !== "boolean") {
    throw new OptionsError([...prefix, ALLOW_INSECURE_TRANSPORT], "expected true or false");
  }
  return value;
}

/**
 * Refuses, with an {@link OptionsError} naming `path`, a plaintext `uri` to a
 * non-loopback host unless `options.allow_insecure_transport` is true. The
 * flag is read next to the key (`path` without its last element).
 */
export function checkTransport(
  options: PluginOptions,
  path: Path,
  uri: string,
  startTls = false,
): void {
  const permitted = allowed(options, path.slice(0, -1));
  if (permitted || !isInsecureTransport(uri, startTls)) return;
  const { protocol, hostname } = new URL(uri);
  const secure = protocol === "ldap:" ? "ldaps:// or start_tls: true" : "https://";
  throw new OptionsError(
    path,
    `plaintext ${protocol}// to the non-loopback host ${hostname} is refused: use ${secure}, ` +
      `or set ${ALLOW_INSECURE_TRANSPORT}: true for a network you trust`,
  );
}

/**
 * Logs `<event>` (a warning) for each of `uris` (key → URI) that is
 * plaintext to a non-loopback host, i.e. was let through by the opt-in.
 */
export function warnInsecureTransport(
  log: PluginLogger,
  event: string,
  uris: Readonly<Record<string, string>>,
  startTls = false,
): void {
  for (const [key, uri] of Object.entries(uris)) {
    if (!isInsecureTransport(uri, startTls)) continue;
    const { protocol, hostname } = new URL(uri);
    log.warn(event, `${key} uses plaintext ${protocol}// to a non-loopback host`, {
      key,
      host: hostname,
      [ALLOW_INSECURE_TRANSPORT]: true,
    });
  }
}
