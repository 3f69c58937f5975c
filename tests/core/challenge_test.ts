import assert from "node:assert/strict";
import { buildChallenge, quoteRealm } from "../../lib/auth/challenge.ts";

Deno.test("buildChallenge() lists providers in order without duplicate pairs", () => {
  assert.equal(
    buildChallenge([
      { scheme: "Basic", realm: "localrealm" },
      { scheme: "Bearer", realm: "ecmwf" },
      { scheme: "Basic", realm: "localrealm" },
      { scheme: "Bearer", realm: undefined },
    ]),
    'Basic realm="localrealm", Bearer realm="ecmwf"',
  );
});

Deno.test("buildChallenge() is just Bearer when nothing contributes", () => {
  assert.equal(buildChallenge([]), "Bearer");
  assert.equal(buildChallenge([{ scheme: "Bearer", realm: undefined }]), "Bearer");
});

Deno.test("quoteRealm() escapes quotes and backslashes and drops control characters", () => {
  assert.equal(quoteRealm('a"b\\c'), '"a\\"b\\\\c"');
  assert.equal(quoteRealm("x\r\ny\u00e9"), '"xy"');
});
