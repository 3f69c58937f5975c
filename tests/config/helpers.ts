/**
 * Shared helpers for the config tests.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ConfigError, type GatewayErrorCode } from "../../lib/util/errors.ts";

/** Directory of the config fixtures. */
export const FIXTURES = new URL("../fixtures/config/", import.meta.url);

/** Path of a config fixture. */
export function fixture(name: string): string {
  return new URL(name, FIXTURES).pathname;
}

/** The minimal valid v2 config of spec 2.2, one key per line. */
export const MINIMAL = `version: "2.0.0"
server:
  port: 8080
store:
  enabled: false
services: []
providers: []
jwt:
  iss: my-iss
  exp: 3600
  secret: s3cr3t
logging:
  level: info
  format: json
`;

/** MINIMAL with `key: value` lines replaced (`from` must occur once). */
export function edit(from: string, to: string, text = MINIMAL): string {
  assert.equal(text.split(from).length, 2, `"${from}" must occur once`);
  return text.replace(from, to);
}

/** Indentation of a line. */
const indent = (line: string) => line.length - line.trimStart().length;

/** MINIMAL without the line starting `key:` (e.g. `  port`) and its children. */
export function without(key: string, text = MINIMAL): string {
  const lines = text.split("\n");
  const start = lines.findIndex((l) => l.startsWith(`${key}:`));
  assert.ok(start >= 0, `no line ${key}`);
  let end = start + 1;
  while (
    end < lines.length && lines[end] !== "" &&
    indent(lines[end]) > indent(lines[start])
  ) end++;
  lines.splice(start, end - start);
  return lines.join("\n");
}

/** Runs `fn`, asserts it throws a ConfigError with `code`, and returns it. */
export function configError(
  fn: () => unknown,
  code: GatewayErrorCode = "ERR_CONFIG_INVALID",
): ConfigError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `not a ConfigError: ${error}`);
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail("expected a ConfigError");
}

/** Async form of {@link configError}. */
export async function configErrorAsync(
  fn: () => Promise<unknown>,
  code: GatewayErrorCode = "ERR_CONFIG_INVALID",
): Promise<ConfigError> {
  try {
    await fn();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `not a ConfigError: ${error}`);
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail("expected a ConfigError");
}
