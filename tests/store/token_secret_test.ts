import assert from "node:assert/strict";
import {
  displayPrefix,
  generateToken,
  hashToken,
  isTokenShaped,
} from "../../lib/store/token_secret.ts";

Deno.test("generateToken() gives 10 000 distinct aot_ tokens of 256 random bits", () => {
  const tokens = new Set(Array.from({ length: 10_000 }, generateToken));
  assert.equal(tokens.size, 10_000);
  for (const token of tokens) assert.ok(isTokenShaped(token), token);
  // Every base64url character position varies: no timestamp or counter inside.
  const sample = [...tokens].slice(0, 200);
  for (let i = 4; i < 47; i++) {
    assert.ok(new Set(sample.map((t) => t[i])).size > 10, `position ${i} looks fixed`);
  }
});

Deno.test("isTokenShaped() accepts only the exact issued shape", () => {
  const token = generateToken();
  assert.equal(isTokenShaped(token), true);
  for (
    const bad of [
      token.slice(0, -1),
      token + "A",
      "AOT_" + token.slice(4),
      token.replace(/.$/, "="),
      "",
    ]
  ) {
    assert.equal(isTokenShaped(bad), false, bad);
  }
});

Deno.test("hashToken() is the SHA-256 hex of the token; displayPrefix() shows 12 characters", async () => {
  assert.equal(
    await hashToken("abc"),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  const token = generateToken();
  assert.match(await hashToken(token), /^[0-9a-f]{64}$/);
  assert.equal(displayPrefix(token), token.slice(0, 12));
});
