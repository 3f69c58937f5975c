/**
 * "Did you mean …?": the known name closest to a misspelled one, by
 * Damerau–Levenshtein distance (a swap of two neighbours counts as one edit),
 * ignoring case.
 *
 * @module
 */

/** Edits (insert, delete, substitute, swap neighbours) turning `a` into `b`. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => {
    const row = new Array<number>(cols).fill(0);
    row[0] = i;
    return row;
  });
  for (let j = 0; j < cols; j++) d[0]![j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      }
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The name in `known` closest to `name`, when it is close enough to be a typo
 * (at most a third of the longer name's length in edits, at least 1 allowed,
 * or one name is a prefix of the other); `undefined` otherwise. Only strings
 * of up to 64 characters are compared.
 */
export function closestName(name: string, known: Iterable<string>): string | undefined {
  const wanted = name.toLowerCase();
  if (wanted.length > 64) return undefined;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const lower = candidate.toLowerCase();
    if (candidate === name || lower.length > 64) continue;
    const distance = editDistance(wanted, lower);
    const limit = Math.max(1, Math.floor(Math.max(wanted.length, lower.length) / 3));
    const prefix = wanted.length >= 3 && (lower.startsWith(wanted) || wanted.startsWith(lower));
    if ((distance <= limit || prefix) && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}
