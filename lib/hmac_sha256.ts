/**
 * HMAC-SHA256 (RFC 2104, FIPS 180-4) computed synchronously in JavaScript,
 * for credential cache keys on the hot path. Deno's `node:crypto` `createHmac`
 * costs tens of microseconds per call (more than the rest of a cached
 * request) and WebCrypto is asynchronous; this costs about one. The key's
 * inner and outer pad states are computed once. Tested against RFC 4231 and
 * against `node:crypto` on random inputs.
 *
 * @module
 */

// deno-fmt-ignore
const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
// deno-fmt-ignore
const INITIAL = [
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

const W = new Int32Array(16);

/** Runs the compression function on the 64-byte blocks of `bytes[0..length)` (a multiple of 64). */
function compress(state: Uint32Array, bytes: Uint8Array, length: number): void {
  let h0 = state[0]! | 0, h1 = state[1]! | 0, h2 = state[2]! | 0, h3 = state[3]! | 0;
  let h4 = state[4]! | 0, h5 = state[5]! | 0, h6 = state[6]! | 0, h7 = state[7]! | 0;
  for (let offset = 0; offset < length; offset += 64) {
    let a = h0, b = h1, c = h2, d = h3, e = h4, f = h5, g = h6, h = h7;
    for (let i = 0; i < 64; i++) {
      let w: number;
      if (i < 16) {
        const j = offset + i * 4;
        w = (bytes[j]! << 24) | (bytes[j + 1]! << 16) | (bytes[j + 2]! << 8) | bytes[j + 3]!;
      } else {
        const x = W[(i - 15) & 15]!, y = W[(i - 2) & 15]!;
        const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
        const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
        w = (W[i & 15]! + s0 + W[(i - 7) & 15]! + s1) | 0;
      }
      W[i & 15] = w;
      const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const t1 = (h + s1 + ((e & f) ^ (~e & g)) + K[i]! + w) | 0;
      const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const t2 = (s0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      h = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    h0 = (h0 + a) | 0;
    h1 = (h1 + b) | 0;
    h2 = (h2 + c) | 0;
    h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0;
    h5 = (h5 + f) | 0;
    h6 = (h6 + g) | 0;
    h7 = (h7 + h) | 0;
  }
  state[0] = h0;
  state[1] = h1;
  state[2] = h2;
  state[3] = h3;
  state[4] = h4;
  state[5] = h5;
  state[6] = h6;
  state[7] = h7;
}

const encoder = new TextEncoder();
let buffer = new Uint8Array(1024);

/**
 * Hashes bytes `[0, length)` of `buffer` with padding into `state`, which
 * already absorbed `prefix` bytes (whole blocks), and writes the digest to `out`.
 */
function finish(state: Uint32Array, length: number, prefix: number, out: Uint8Array): void {
  const total = (length + 9 + 63) & ~63;
  buffer.fill(0, length, total);
  buffer[length] = 0x80;
  const bits = (length + prefix) * 8;
  const high = Math.floor(bits / 2 ** 32);
  for (let i = 0; i < 4; i++) {
    buffer[total - 8 + i] = high >>> (24 - i * 8);
    buffer[total - 4 + i] = bits >>> (24 - i * 8);
  }
  compress(state, buffer, total);
  for (let i = 0; i < 8; i++) {
    out[i * 4] = state[i]! >>> 24;
    out[i * 4 + 1] = state[i]! >>> 16;
    out[i * 4 + 2] = state[i]! >>> 8;
    out[i * 4 + 3] = state[i]!;
  }
}

function reserve(bytes: number): void {
  if (buffer.length < bytes) buffer = new Uint8Array(Math.max(bytes, buffer.length * 2));
}

/** SHA-256 of `bytes`. */
export function sha256(bytes: Uint8Array): Uint8Array {
  const state = new Uint32Array(INITIAL);
  const whole = bytes.length & ~63;
  compress(state, bytes, whole);
  reserve(bytes.length - whole + 72);
  buffer.set(bytes.subarray(whole));
  const out = new Uint8Array(32);
  finish(state, bytes.length - whole, whole, out);
  return out;
}

function padState(key: Uint8Array, pad: number): Uint32Array {
  const block = new Uint8Array(64).fill(pad);
  for (let i = 0; i < key.length; i++) block[i]! ^= key[i]!;
  const state = new Uint32Array(INITIAL);
  compress(state, block, 64);
  return state;
}

/** Returns a function computing HMAC-SHA256(`key`, message) of UTF-8 strings. */
export function createHmacSha256(key: Uint8Array): (message: string) => Uint8Array {
  if (key.length > 64) key = sha256(key);
  const inner = padState(key, 0x36);
  const outer = padState(key, 0x5c);
  const state = new Uint32Array(8);
  return (message) => {
    // UTF-8 takes at most 3 bytes per UTF-16 unit, plus room for the padding.
    reserve(message.length * 3 + 72);
    let written = 0;
    for (; written < message.length; written++) {
      const code = message.charCodeAt(written);
      if (code > 0x7f) break; // not ASCII: let the encoder do UTF-8
      buffer[written] = code;
    }
    if (written < message.length) written = encoder.encodeInto(message, buffer).written;
    const digest = new Uint8Array(32);
    state.set(inner);
    finish(state, written, 64, digest);
    buffer.set(digest);
    state.set(outer);
    finish(state, 32, 64, digest);
    return digest;
  };
}

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

const CODES = Array.from(ALPHABET, (c) => c.charCodeAt(0));
const chars: number[] = [];

/** Bytes as unpadded base64url. */
export function base64url(bytes: Uint8Array): string {
  chars.length = 0;
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    chars.push(CODES[n >>> 18]!, CODES[(n >>> 12) & 63]!, CODES[(n >>> 6) & 63]!, CODES[n & 63]!);
  }
  if (i < bytes.length) {
    const n = (bytes[i]! << 16) | ((bytes[i + 1] ?? 0) << 8);
    chars.push(CODES[n >>> 18]!, CODES[(n >>> 12) & 63]!);
    if (i + 1 < bytes.length) chars.push(CODES[(n >>> 6) & 63]!);
  }
  // One string from the codes: no intermediate strings per character.
  return String.fromCharCode(...chars);
}
