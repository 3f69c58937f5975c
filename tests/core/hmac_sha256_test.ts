import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import fc from "fast-check";
import { createCredentialKeyer } from "../../packages/plugin/_host/credential_key.ts";
import { base64url, createHmacSha256, sha256 } from "../../packages/plugin/_host/hmac_sha256.ts";

const hex = (bytes: Uint8Array) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
const fromHex = (text: string) => new Uint8Array(text.match(/../g)!.map((h) => parseInt(h, 16)));
const latin1 = (bytes: Uint8Array) => String.fromCharCode(...bytes);

Deno.test("createHmacSha256() matches the RFC 4231 test vectors", () => {
  const vectors: [Uint8Array, string, string][] = [
    [
      new Uint8Array(20).fill(0x0b),
      "Hi There",
      "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
    ],
    [
      new TextEncoder().encode("Jefe"),
      "what do ya want for nothing?",
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    ],
    [
      new Uint8Array(131).fill(0xaa),
      "Test Using Larger Than Block-Size Key - Hash Key First",
      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
    ],
    [
      new Uint8Array(131).fill(0xaa),
      "This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.",
      "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
    ],
  ];
  for (const [key, message, expected] of vectors) {
    assert.equal(
      createHmacSha256(key)(message),
      Buffer.from(fromHex(expected)).toString("base64url"),
    );
  }
  // RFC 4231 case 3 has binary data: 50 bytes of 0xdd (all < 0x80 would be ASCII; 0xdd is not).
  const data = latin1(fromHex("dd".repeat(50)));
  assert.equal(
    createHmacSha256(new Uint8Array(20).fill(0xaa))(data),
    createHmac("sha256", new Uint8Array(20).fill(0xaa)).update(data).digest("base64url"),
  );
});

Deno.test("createHmacSha256() equals node:crypto for random keys and UTF-8 messages", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 200 }),
      fc.string({ unit: "grapheme", maxLength: 300 }),
      (key, message) => {
        const expected = createHmac("sha256", key).update(message).digest("base64url");
        assert.equal(createHmacSha256(key)(message), expected);
      },
    ),
    { numRuns: 500 },
  );
});

Deno.test("createHmacSha256() equals node:crypto around block boundaries, ASCII or not", () => {
  const key = crypto.getRandomValues(new Uint8Array(32));
  const hmac = createHmacSha256(key);
  for (let length = 0; length < 200; length++) {
    for (
      const message of ["a".repeat(length), "é".repeat(length), "a".repeat(length) + "\u{1F511}"]
    ) {
      const expected = createHmac("sha256", key).update(message).digest("base64url");
      assert.equal(hmac(message), expected, `${length}`);
    }
  }
  // Longer than the initial buffer: it grows, and shorter messages still hash right after.
  for (const message of ["x".repeat(70_000), "é".repeat(5_000), "short"]) {
    assert.equal(hmac(message), createHmac("sha256", key).update(message).digest("base64url"));
  }
});

Deno.test("sha256() equals node:crypto around block boundaries", () => {
  for (let length = 0; length < 200; length++) {
    const bytes = crypto.getRandomValues(new Uint8Array(length));
    assert.equal(hex(sha256(bytes)), createHash("sha256").update(bytes).digest("hex"), `${length}`);
  }
});

Deno.test("base64url() encodes without padding", () => {
  for (let length = 0; length < 40; length++) {
    const bytes = crypto.getRandomValues(new Uint8Array(length));
    assert.equal(base64url(bytes), Buffer.from(bytes).toString("base64url"));
  }
});

Deno.test("createCredentialKeyer() is HMAC-SHA256 base64url under its secret", () => {
  const secret = crypto.getRandomValues(new Uint8Array(32));
  const key = createCredentialKeyer(secret);
  const credential = "Basic YWxpY2U6c2VjcmV0";
  assert.equal(
    key(credential),
    createHmac("sha256", secret).update(credential).digest("base64url"),
  );
  assert.notEqual(createCredentialKeyer()(credential), createCredentialKeyer()(credential));
  assert.ok(!key(credential).includes("YWxpY2U"));
});
