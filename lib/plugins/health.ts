/**
 * What the gateway remembers about each plugin's recent failures, for the
 * metrics listener's `/status`, and the `authotron_upstream_failures_total`
 * counter. Keys are config entry names only, so memory stays bounded.
 *
 * Error messages come from plugins; before they are stored, the credential
 * being checked (and, for Basic, its password) is cut out of them, and they
 * are shortened, so a careless plugin message cannot leak it through
 * `/status` or the logs.
 *
 * @module
 */

import type { Counter, GatewayMetrics } from "../observability/metrics.ts";
import { decodeBasicCredential, type Scheme } from "../plugin.ts";
import { REDACTED } from "../observability/log_redact.ts";

/** The `kind` label values of `authotron_upstream_failures_total`. */
export const UPSTREAM_KINDS: readonly string[] = [
  "timeout",
  "refused",
  "5xx",
  "429",
  "redirect",
  "too_large",
  "invalid_response",
  "limited",
];

/** How a plugin call failed. */
export type FailureResult = "error" | "timeout" | "upstream_unavailable";

/** The last failure of one plugin, as `/status` shows it. */
export interface LastError {
  /** RFC 3339 time of the failure. */
  readonly at: string;
  /** `error`, `timeout` or `upstream_unavailable`. */
  readonly result: FailureResult;
  /** Upstream failure kind (`timeout`, `5xx`, …), when there is one. */
  readonly kind?: string;
  /** Short description with the credential removed. */
  readonly message: string;
}

const MAX_MESSAGE = 300;
const MIN_SECRET_CHARS = 4;

/**
 * Removes `credential` (and for `Basic` the decoded password) from `text` and
 * caps its length. Short secrets (< 4 characters) are not searched for, since
 * they would match ordinary words.
 */
export function scrubCredential(text: string, scheme: Scheme, credential: string): string {
  const secrets = [credential];
  if (scheme === "Basic") {
    const decoded = decodeBasicCredential(credential);
    if (decoded) secrets.push(decoded.password);
  }
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= MIN_SECRET_CHARS) out = out.replaceAll(secret, REDACTED);
  }
  return out.length > MAX_MESSAGE ? `${out.slice(0, MAX_MESSAGE)}…` : out;
}

/** Per-plugin failure memory plus the upstream-failure counter. */
export class PluginHealth {
  readonly #errors = new Map<string, LastError>();
  readonly #upstream: Counter;
  readonly #now: () => number;

  /** Registers `authotron_upstream_failures_total` on `metrics`. */
  constructor(metrics: GatewayMetrics, now: () => number = Date.now) {
    this.#upstream = metrics.counter(
      "authotron_upstream_failures_total",
      "Provider calls that could not reach a verdict because their upstream failed, by provider and kind (timeout, refused, 5xx, 429, redirect, too_large, invalid_response, limited, other).",
      ["provider_name", "kind"],
    );
    this.#now = now;
  }

  /**
   * Records a failed provider call. An upstream failure (`kind` given) is also
   * counted; kinds outside {@link UPSTREAM_KINDS} count as `other`.
   */
  providerFailed(name: string, result: FailureResult, message: string, kind?: string): void {
    if (kind !== undefined) {
      const label = UPSTREAM_KINDS.includes(kind) ? kind : "other";
      this.#upstream.inc({ provider_name: name, kind: label });
      this.#remember(`provider/${name}`, { result, kind: label, message });
    } else {
      this.#remember(`provider/${name}`, { result, message });
    }
  }

  /** Records a failed augmenter run. */
  augmenterFailed(name: string, result: "error" | "timeout", message: string): void {
    this.#remember(`augmenter/${name}`, { result, message });
  }

  /** The last failure of a plugin, if any. */
  lastError(kind: "provider" | "augmenter", name: string): LastError | undefined {
    return this.#errors.get(`${kind}/${name}`);
  }

  #remember(key: string, error: Omit<LastError, "at">): void {
    this.#errors.set(key, { at: new Date(this.#now()).toISOString(), ...error });
  }
}
