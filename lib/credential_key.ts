/**
 * Cache keys for credentials: an HMAC-SHA256 under a secret drawn at process
 * start, so a cache (or a heap dump of it) never holds a usable credential
 * and keys cannot be precomputed from outside.
 *
 * @module
 */

import { createHmac } from "node:crypto";

/** Derives keys for one process (or one test). */
export function createCredentialKeyer(
  secret: Uint8Array = crypto.getRandomValues(new Uint8Array(32)),
): (credential: string) => string {
  return (credential) => createHmac("sha256", secret).update(credential).digest("base64url");
}
