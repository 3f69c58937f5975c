/**
 * What one authentication did, step by step, for `GET /explain` and
 * `main.ts --explain`: every provider's result with a short fixed reason,
 * and every augmenter's effect. The pipeline fills one only when asked to,
 * so `/authenticate` pays nothing for it.
 *
 * Reasons are fixed phrases (plus a timeout in ms or an upstream failure
 * kind), never a credential, a username or an upstream's message.
 *
 * @module
 */

/** How a provider took part. */
export type ProviderResult =
  | "accepted"
  | "rejected"
  | "skipped"
  | "timeout"
  | "upstream_unavailable"
  | "error"
  | "not_run";

/** One provider's part in a decision. */
export interface ProviderRecord {
  /** Entry name. */
  readonly name: string;
  /** Config type or module label. */
  readonly type: string;
  /** Filter realm (`null` for the token store, which has none). */
  readonly realm: string | null;
  /** What happened. */
  result: ProviderResult;
  /** A short fixed phrase saying why. */
  reason: string;
  /** How long it ran, in ms (0 when it did not run). */
  duration_ms: number;
}

/** One augmenter's part in a decision. */
export interface AugmenterRecord {
  /** Entry name. */
  readonly name: string;
  /** Config type or module label. */
  readonly type: string;
  /** `applied`, `timeout` or `error` (`on_error` then decides). */
  result: "applied" | "timeout" | "error";
  /** Roles its patch added (before duplicates were dropped). */
  roles_added: string[];
  /** Attribute names its patch set. */
  attributes_set: string[];
}

/** The record of one authentication, filled in by the pipeline. */
export interface Explanation {
  /** Every configured provider, in config order. */
  readonly providers: ProviderRecord[];
  /** The augmenters that ran for the user's realm. */
  readonly augmenters: AugmenterRecord[];
}

/** A new, empty explanation. */
export function newExplanation(): Explanation {
  return { providers: [], augmenters: [] };
}

/** The fixed reasons, so that tests and docs can name them. */
export const REASONS = {
  accepted: "credential accepted",
  rejected: "credential not accepted",
  invalidUser: "returned an invalid user",
  error: "provider error",
  notRun: "another provider accepted first",
  notReached: "an earlier credential was accepted first",
  noCredential: "no usable Authorization header",
  scheme: "scheme not in the Authorization header",
  realm: "realm does not match X-Auth-Realm",
  throttled: "not run: brute-force limit reached",
} as const;

/** The reason of a timeout. */
export function timeoutReason(timeoutMs: number): string {
  return `no answer within ${timeoutMs} ms`;
}

/** The reason of an upstream failure of `kind` (`timeout`, `refused`, `5xx`, …). */
export function unavailableReason(kind: string): string {
  return `identity service unavailable (${/^[a-z0-9_]{1,32}$/.test(kind) ? kind : "other"})`;
}
