/**
 * Cache keys for credentials: an HMAC-SHA256 under a secret drawn at process
 * start, so a cache (or a heap dump of it) never holds a usable credential
 * and keys cannot be precomputed from outside. Computed synchronously in
 * JavaScript (packages/plugin/_host/hmac_sha256.ts): it runs on every request.
 *
 * @module
 */

import { createHmacSha256 } from "./hmac_sha256.ts";

/** Derives keys for one process (or one test). */
export function createCredentialKeyer(
  secret: Uint8Array = crypto.getRandomValues(new Uint8Array(32)),
): (credential: string) => string {
  return createHmacSha256(secret);
}
