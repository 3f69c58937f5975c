/**
 * Failures of the LDAP augmenter as `UpstreamUnavailableError` values with a
 * classified `kind`, and the helper that bounds a pending LDAP step by the
 * caller's `AbortSignal`.
 *
 * @module
 */

import { ResultCodeError } from "ldapts";
import { UpstreamUnavailableError } from "../../lib/plugin.ts";

/** Classifies an ldapts/socket failure for the `UpstreamUnavailableError` kind. */
function kindOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (/ECONNREFUSED|refused/i.test(message)) return "refused";
  if (/timed? ?out|timeout/i.test(message)) return "timeout";
  if (/certificate|self.signed|TLS|SSL|handshake/i.test(message)) return "tls";
  return error instanceof ResultCodeError ? "ldap_result" : "error";
}

/** Wraps a failure as `UpstreamUnavailableError` (the password never appears in ldapts messages). */
export function unavailable(stage: string, error: unknown): UpstreamUnavailableError {
  if (error instanceof UpstreamUnavailableError) return error;
  const message = error instanceof ResultCodeError
    ? `${error.name} (result code ${error.code})`
    : error instanceof Error
    ? error.message.split("\n")[0]
    : String(error);
  return new UpstreamUnavailableError(`LDAP ${stage} failed: ${message}`, kindOf(error), {
    cause: error,
  });
}

/** The error for a call whose signal aborted during `stage` (kind `timeout`). */
export function abortError(signal: AbortSignal, stage: string): UpstreamUnavailableError {
  const reason = signal.reason instanceof Error ? signal.reason.message : "aborted";
  return new UpstreamUnavailableError(`LDAP ${stage} aborted: ${reason}`, "timeout");
}

/**
 * Settles like `promise`, or rejects as soon as `signal` aborts, calling
 * `onAbort` first (to close the socket so nothing keeps running).
 */
export function bounded<T>(
  promise: Promise<T>,
  signal: AbortSignal,
  stage: string,
  onAbort: () => void,
): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {});
    onAbort();
    return Promise.reject(abortError(signal, stage));
  }
  return new Promise<T>((resolve, reject) => {
    const abort = () => {
      onAbort();
      reject(abortError(signal, stage));
    };
    signal.addEventListener("abort", abort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", abort));
  });
}
