/**
 * Types one environment value the way auth-o-tron's config library (figment)
 * does, with a TOML-like grammar.
 *
 * @module
 */

const MAX_DEPTH = 32;
const FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INTEGER = /^[+-]?\d+$/;
const KEY_CHAR = /[A-Za-z0-9_-]/;
const SEPARATORS = ",{}[]";
const ESCAPES: Record<string, string> = {
  '"': '"',
  "\\": "\\",
  "/": "/",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
};

/** Thrown inside the parser; the caller falls back to the raw text. */
class NoParse extends Error {}

/**
 * Types an environment value: `true`/`false` → boolean; an integer → number
 * (only within ±2^53, larger ones stay strings); text containing `.` that
 * parses as a float → number; `[a, b]` → list; `{k=v, k2="x"}` → table;
 * `"…"` → string with escapes; `'c'` → one-character string. Anything else,
 * including text that is not fully consumed by the grammar, is kept as the
 * plain, untrimmed string.
 */
export function parseEnvValue(text: string): unknown {
  const parser = new Parser(text);
  try {
    const value = parser.value(0);
    if (parser.i === text.length) return value;
  } catch (error) {
    if (!(error instanceof NoParse)) throw error;
  }
  return text;
}

class Parser {
  i = 0;
  constructor(readonly s: string) {}

  value(depth: number): unknown {
    if (depth > MAX_DEPTH) throw new NoParse();
    this.skipSpace();
    let value: unknown;
    const c = this.s[this.i];
    if (this.s.startsWith("true", this.i)) {
      this.i += 4;
      value = true;
    } else if (this.s.startsWith("false", this.i)) {
      this.i += 5;
      value = false;
    } else if (c === "{") {
      value = Object.fromEntries(
        this.collect("{", "}", () => this.keyValue(depth)),
      );
    } else if (c === "[") value = this.collect("[", "]", () => this.value(depth + 1));
    else if (c === '"') value = this.string();
    else if (c === "'") value = this.char();
    else value = this.plain();
    this.skipSpace();
    return value;
  }

  collect<T>(open: string, close: string, item: () => T): T[] {
    this.expect(open);
    const items: T[] = [];
    while (!this.eat(close)) {
      items.push(item());
      if (!this.eat(",")) {
        this.expect(close);
        break;
      }
    }
    return items;
  }

  keyValue(depth: number): [string, unknown] {
    this.skipSpace();
    let key: string;
    if (this.s[this.i] === '"') key = this.string();
    else {
      const start = this.i;
      while (this.i < this.s.length && KEY_CHAR.test(this.s[this.i])) this.i++;
      if (this.i === start) throw new NoParse();
      key = this.s.slice(start, this.i);
    }
    this.skipSpace();
    this.expect("=");
    return [key, this.value(depth + 1)];
  }

  string(): string {
    this.expect('"');
    let out = "";
    for (;;) {
      const c = this.s[this.i++];
      if (c === undefined) throw new NoParse();
      if (c === '"') return out;
      if (c !== "\\") {
        out += c;
        continue;
      }
      const e = this.s[this.i++];
      if (e in ESCAPES) out += ESCAPES[e];
      else if (e === "u" || e === "U") out += this.codePoint(e === "u" ? 4 : 8);
      else throw new NoParse();
    }
  }

  codePoint(digits: number): string {
    const hex = this.s.slice(this.i, this.i + digits);
    const code = Number.parseInt(hex, 16);
    if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== digits || code > 0x10ffff) {
      throw new NoParse();
    }
    this.i += digits;
    return String.fromCodePoint(code);
  }

  char(): string {
    this.expect("'");
    const code = this.s.codePointAt(this.i);
    if (code === undefined) throw new NoParse();
    const c = String.fromCodePoint(code);
    this.i += c.length;
    this.expect("'");
    return c;
  }

  plain(): unknown {
    const start = this.i;
    while (this.i < this.s.length && !SEPARATORS.includes(this.s[this.i])) {
      this.i++;
    }
    const text = this.s.slice(start, this.i).trim();
    if (text.includes(".") && FLOAT.test(text)) return Number(text);
    if (INTEGER.test(text) && Number.isSafeInteger(Number(text))) {
      return Number(text);
    }
    return text;
  }

  skipSpace(): void {
    while (/\s/.test(this.s[this.i] ?? "")) this.i++;
  }

  eat(c: string): boolean {
    if (this.s[this.i] !== c) return false;
    this.i++;
    return true;
  }

  expect(c: string): void {
    if (!this.eat(c)) throw new NoParse();
  }
}
