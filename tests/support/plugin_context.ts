/**
 * Test helpers for calling plugin modules directly, the way the host does.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  type CallContext,
  CredentialRejectedError,
  OptionsError,
  type PluginContext,
  type PluginLogger,
  type PluginOptions,
  type Provider,
} from "../../lib/plugin.ts";
import { createPluginServices } from "../../packages/plugin/_host/services.ts";
import { type LogRecord, recordingLogger } from "@authotron/plugin/testing";

/** One captured log call. */
export type CapturedLog = LogRecord;

/** A plugin logger that records every call (`@authotron/plugin/testing`'s, with `lines`). */
export function captureLogger(): PluginLogger & { readonly lines: CapturedLog[] } {
  const logger = recordingLogger();
  return Object.assign(logger, { lines: logger.records });
}

/** A `create()` context for a plugin named `name` in `realm`. */
export function pluginContext(
  name = "test",
  realm = "test",
  log: PluginLogger = captureLogger(),
): PluginContext {
  const services = createPluginServices();
  return {
    name,
    realm,
    type: "test",
    configUrl: new URL("file:///tmp/config.yaml"),
    log,
    http: services.http,
    createCache: services.createCache,
    credentialKey: services.credentialKey,
  };
}

/** A per-call context with a fresh signal. */
export function callContext(signal: AbortSignal = new AbortController().signal): CallContext {
  return { signal, log: captureLogger() };
}

/**
 * `provider.authenticate(credential)` as the race sees it: the user, or
 * `undefined` for a rejection — including one the provider claims as its own
 * ({@link CredentialRejectedError}). Outages still throw.
 */
export async function verdict(
  provider: Provider,
  credential: string,
  ctx: CallContext = callContext(),
) {
  try {
    return await provider.authenticate(credential, ctx);
  } catch (error) {
    if (error instanceof CredentialRejectedError) return undefined;
    throw error;
  }
}

/** `base64(text)` as a Basic credential (UTF-8). */
export function basic(text: string): string {
  return btoa(String.fromCharCode(...new TextEncoder().encode(text)));
}

/** Asserts that `parseOptions` refuses `full` without each one of its keys, naming that key. */
export function assertEachKeyRequired(
  parseOptions: (options: PluginOptions) => unknown,
  full: PluginOptions,
): void {
  for (const key of Object.keys(full)) {
    const options: PluginOptions = { ...full };
    delete options[key];
    assert.throws(
      () => parseOptions(options),
      (e) => e instanceof OptionsError && e.path[0] === key,
      key,
    );
  }
}
