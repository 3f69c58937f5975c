import assert from "node:assert/strict";
import {
  normaliseScheme,
  parseAuthorization,
  readAsciiHeader,
} from "../../lib/auth/credentials.ts";

function creds(value: string | undefined) {
  const parsed = parseAuthorization(value);
  assert.ok(parsed.ok, `expected ${value} to parse`);
  return [...parsed.credentials];
}

function failure(value: string | undefined) {
  const parsed = parseAuthorization(value);
  assert.ok(!parsed.ok, `expected ${value} to fail`);
  return parsed;
}

Deno.test("parseAuthorization() reports a missing or blank header as no_auth_header", () => {
  assert.equal(failure(undefined).reason, "no_auth_header");
  assert.equal(failure("").reason, "no_auth_header");
  assert.equal(failure("   \t ").reason, "no_auth_header");
});

Deno.test("parseAuthorization() needs exactly scheme and credential per part", () => {
  for (const value of ["Basic", "Basic a b", "Basic xyz,", "Basic xyz, ,Bearer t", "Basic a,   "]) {
    const f = failure(value);
    assert.equal(f.reason, "invalid_header", value);
    assert.equal(f.detail, "invalid_format", value);
  }
});

Deno.test("parseAuthorization() normalises schemes case-insensitively with Plain as Basic", () => {
  assert.deepEqual(creds("basic abc"), [["Basic", "abc"]]);
  assert.deepEqual(creds("PLAIN abc"), [["Basic", "abc"]]);
  assert.deepEqual(creds("bEaReR t"), [["Bearer", "t"]]);
  assert.deepEqual(creds("Token t"), [["Token", "t"]]);
  assert.equal(normaliseScheme("Digest"), "Digest");
});

Deno.test("parseAuthorization() keeps the last credential of a scheme", () => {
  assert.deepEqual(creds("Basic a, Basic b, Basic good"), [["Basic", "good"]]);
  assert.deepEqual(creds("Bearer t, Basic c"), [["Bearer", "t"], ["Basic", "c"]]);
});

Deno.test("parseAuthorization() skips exact duplicates and allows at most 3 unique parts", () => {
  const parsed = parseAuthorization("Basic a, Basic a, Basic a, Basic a");
  assert.ok(parsed.ok);
  assert.equal(parsed.duplicatesSkipped, 3);
  const f = failure("Basic a, Basic b, Basic c, Basic d");
  assert.equal(f.detail, "too_many_credentials");
  // "Basic x" and "basic x" are distinct parts that count twice.
  assert.ok(parseAuthorization("Basic x, basic x, Bearer y").ok);
  assert.equal(failure("Basic x, basic x, Bearer y, bearer y").detail, "too_many_credentials");
});

Deno.test("parseAuthorization() rejects an oversized header", () => {
  assert.equal(failure("Basic " + "A".repeat(20_000)).detail, "too_long");
});

Deno.test("readAsciiHeader() treats non-ASCII values as absent", () => {
  const headers = new Headers({ authorization: "Basic abc", "x-auth-realm": "r\u00e9alm" });
  assert.equal(readAsciiHeader(headers, "authorization"), "Basic abc");
  assert.equal(readAsciiHeader(headers, "x-auth-realm"), undefined);
  assert.equal(readAsciiHeader(headers, "missing"), undefined);
  assert.equal(readAsciiHeader(new Headers({ "x-auth-realm": "" }), "x-auth-realm"), "");
});
