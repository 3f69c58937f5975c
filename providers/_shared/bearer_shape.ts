/**
 * Cheap local checks remote Bearer providers run before asking their identity
 * service (#22 F6), so garbage costs no upstream call:
 *
 * - every remote provider: at most {@link MAX_REMOTE_BEARER_LENGTH}
 *   characters ({@link isPlausibleLength});
 * - `ecmwf-api` and `efas-api`, whose keys are short opaque strings: the
 *   RFC 6750 `b64token` syntax too (section 2.1: letters, digits, `-._~+/`,
 *   then optional `=` padding; {@link isPlausibleApiKey}).
 *
 * @module
 */

/** Longest credential sent to an identity service, in characters. */
export const MAX_REMOTE_BEARER_LENGTH = 8192;

const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/** True when `credential` is short enough to be worth an upstream call. */
export function isPlausibleLength(credential: string): boolean {
  return credential.length <= MAX_REMOTE_BEARER_LENGTH;
}

/** True when `credential` may be an API key: a `b64token` of plausible length. */
export function isPlausibleApiKey(credential: string): boolean {
  return isPlausibleLength(credential) && B64TOKEN.test(credential);
}
