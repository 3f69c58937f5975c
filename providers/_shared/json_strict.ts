/**
 * Duplicate-key detection for JSON texts (JOSE headers and JWT claims):
 * `JSON.parse` keeps the last of two equal keys, while other parsers keep the
 * first, so a token with `{"sub":"alice","sub":"admin"}` could mean different
 * users to the gateway and to a service behind it. RFC 7515 §4 lets a
 * verifier reject such input; the gateway does.
 *
 * @module
 */

/**
 * True when some object in `text` has the same member name twice (compared
 * after unescaping). `text` must already be valid JSON (`JSON.parse` succeeded);
 * the scan is linear and iterative, so deep nesting cannot overflow the stack.
 */
export function hasDuplicateKeys(text: string): boolean {
  const stack: (Set<string> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === "\\" ? 2 : 1;
      if (expectKey) {
        const keys = stack[stack.length - 1]!;
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if (keys.has(key)) return true;
        keys.add(key);
        expectKey = false;
      }
      i = end;
    } else if (c === "{") {
      stack.push(new Set());
      expectKey = true;
    } else if (c === "[") {
      stack.push(null);
    } else if (c === "}" || c === "]") {
      stack.pop();
      expectKey = false;
    } else if (c === ",") {
      expectKey = (stack[stack.length - 1] ?? null) !== null;
    }
  }
  return false;
}
