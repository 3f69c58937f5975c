/**
 * A strict checker for Prometheus text format 0.0.4 as this project emits
 * it: HELP then TYPE before each family's samples, families unique and
 * sorted by name, labels sorted by name (`le` last on buckets), well-formed
 * escapes and numbers, cumulative buckets ending in `+Inf` = `_count`.
 *
 * @module
 */

import assert from "node:assert/strict";

const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
const HELP = new RegExp(`^# HELP (${NAME}) (?:[^\\\\\\n]|\\\\[\\\\n])*$`);
const TYPE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram)$`);
const LABEL = '([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\\\\n]|\\\\["\\\\n])*)"';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(${LABEL}(?:,${LABEL})*)\\})? (\\S+)$`);
const VALUE = /^(?:[+-]?\d+(?:\.\d+)?(?:e[+-]\d+)?|[+-]Inf|NaN)$/;
const LABEL_GLOBAL = new RegExp(LABEL, "g");

/** Asserts that `text` is a well-formed exposition; returns the samples by series text. */
export function assertValidExposition(text: string): Map<string, number> {
  assert.ok(text === "" || text.endsWith("\n"), "exposition must end with a newline");
  const samples = new Map<string, number>();
  const seen = new Set<string>();
  let family = "";
  let type = "";
  let previous = "";
  let bucketSeries: string | undefined;
  let bucketValue = 0;
  for (const line of text.split("\n").slice(0, -1)) {
    const help = HELP.exec(line);
    if (help) {
      family = help[1];
      assert.ok(!seen.has(family), `family ${family} appears twice`);
      assert.ok(family > previous, `family ${family} is not sorted after ${previous}`);
      seen.add(family);
      previous = family;
      type = "";
      continue;
    }
    const typeLine = TYPE.exec(line);
    if (typeLine) {
      assert.equal(typeLine[1], family, `TYPE without HELP: ${line}`);
      type = typeLine[2];
      continue;
    }
    const sample = SAMPLE.exec(line);
    assert.ok(sample, `malformed line: ${JSON.stringify(line)}`);
    assert.ok(type !== "", `sample before TYPE: ${line}`);
    const [, name, labelText = "", , , , , value] = sample;
    assert.match(value, VALUE, `bad value in ${line}`);
    const suffix = name.slice(family.length);
    const allowed = type === "histogram" ? ["_bucket", "_sum", "_count"] : [""];
    assert.ok(name.startsWith(family) && allowed.includes(suffix), `${name} is not in ${family}`);
    const names = [...labelText.matchAll(LABEL_GLOBAL)].map((m) => m[1]);
    const plain = suffix === "_bucket" ? names.slice(0, -1) : names;
    if (suffix === "_bucket") assert.equal(names.at(-1), "le", `le must be last: ${line}`);
    assert.deepEqual(plain, [...plain].sort(), `labels not sorted: ${line}`);
    const number = Number(value.replace("Inf", "Infinity"));
    if (suffix === "_bucket") {
      const series = `${name}{${labelText.replace(/,?le="[^"]*"$/, "")}}`;
      if (series === bucketSeries) assert.ok(number >= bucketValue, `not cumulative: ${line}`);
      bucketSeries = series;
      bucketValue = number;
    }
    samples.set(`${name}${labelText === "" ? "" : `{${labelText}}`}`, number);
  }
  for (const [key, count] of samples) {
    if (!/_count(?:\{|$)/.test(key)) continue;
    const inf = key.endsWith("_count")
      ? key.replace(/_count$/, '_bucket{le="+Inf"}')
      : key.replace("_count{", "_bucket{").replace(/\}$/, ',le="+Inf"}');
    assert.equal(samples.get(inf), count, `+Inf bucket differs from ${key}`);
  }
  return samples;
}
