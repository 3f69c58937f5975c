/**
 * Migration of the v1 `bind_address` (spec 2.3). v1 files have no `server`
 * or `metrics`; metrics get their defaults.
 *
 * @module
 */

/** A host and port split out of a v1 `bind_address`. */
export interface HostPort {
  /** Host without IPv6 brackets. */
  readonly host: string;
  /** Port 0–65535. */
  readonly port: number;
}

/**
 * Splits `host:port` at the last `:` and strips `[`/`]` from the host, so
 * `[::1]:3000` and `::1:3000` both give `::1`. Returns the original's exact
 * error text on failure.
 */
export function splitBindAddress(
  address: string,
): HostPort | { readonly error: string } {
  const colon = address.lastIndexOf(":");
  if (colon < 0) {
    return {
      error: `bind_address must be in host:port format, got: ${address}`,
    };
  }
  const rawHost = address.slice(0, colon);
  const host = rawHost.replace(/^\[/, "").replace(/\]$/, "");
  if (rawHost === "" || host === "") {
    return { error: `bind_address has empty host, got: ${address}` };
  }
  const portText = address.slice(colon + 1);
  const port = Number(portText);
  if (!/^\+?\d+$/.test(portText) || port > 65535) {
    return { error: `invalid port in bind_address: ${address}` };
  }
  return { host, port };
}
