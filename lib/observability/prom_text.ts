/**
 * Pieces of the Prometheus text exposition format 0.0.4: number formatting,
 * escaping and name validation.
 *
 * @module
 */

/** The media type of the Prometheus text format 0.0.4. */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Formats a sample value in shortest form: `0`, `1`, `2.5`, `+Inf`, `NaN`. */
export function formatNumber(value: number): string {
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

/** Escapes a label value: backslash, double quote and line feed. */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => c === "\n" ? "\\n" : `\\${c}`);
}

/** Escapes a HELP text: backslash and line feed. */
export function escapeHelp(text: string): string {
  return text.replace(/[\\\n]/g, (c) => c === "\n" ? "\\n" : "\\\\");
}

/**
 * Renders label pairs without braces, in the order of `names`:
 * `realm="default",result="success"`. Missing labels render as empty values.
 */
export function renderLabelPairs(
  names: readonly string[],
  labels: Readonly<Record<string, string>>,
): string {
  return names.map((name) => `${name}="${escapeLabelValue(labels[name] ?? "")}"`)
    .join(",");
}

/** Throws a `TypeError` unless `name` is a valid metric name. */
export function assertMetricName(name: string): void {
  if (!METRIC_NAME.test(name)) {
    throw new TypeError(`invalid metric name ${JSON.stringify(name)}`);
  }
}

/**
 * Throws a `TypeError` unless every label name is valid, not reserved
 * (`__…`, or `le` when `histogram`) and not repeated.
 */
export function assertLabelNames(
  names: readonly string[],
  histogram: boolean,
): void {
  const seen = new Set<string>();
  for (const name of names) {
    if (
      !LABEL_NAME.test(name) || name.startsWith("__") ||
      (histogram && name === "le") || seen.has(name)
    ) {
      throw new TypeError(`invalid or duplicate label name ${JSON.stringify(name)}`);
    }
    seen.add(name);
  }
}
