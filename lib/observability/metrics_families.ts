/**
 * Prometheus metric families: counter, gauge and histogram families with
 * labelled series, each rendering itself in text format 0.0.4. Series render
 * sorted by label values, labels sorted by name; a family with no series
 * renders nothing.
 *
 * For hot paths, `series(labels)` returns the series itself, so a caller can
 * keep it and update it with no lookup or allocation.
 *
 * Label values must come from configuration or fixed sets, never from client
 * input: every distinct value set is a series that lives forever.
 *
 * @module
 */

import {
  assertLabelNames,
  assertMetricName,
  escapeHelp,
  formatNumber,
  renderLabelPairs,
} from "./prom_text.ts";

/** Label values by label name. */
export type Labels = Readonly<Record<string, string>>;

/** Anything the registry can render. */
export interface MetricFamily {
  /** The family name (also the sort key). */
  readonly name: string;
  /** Appends HELP, TYPE and samples; nothing when there is nothing to show. */
  render(lines: string[]): void;
}

function sample(name: string, labels: string, value: number): string {
  return labels === ""
    ? `${name} ${formatNumber(value)}`
    : `${name}{${labels}} ${formatNumber(value)}`;
}

function header(name: string, help: string, type: string): [string, string] {
  return [`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`];
}

/** A family of series keyed by label values. */
abstract class LabelledFamily<S extends { readonly labels: string }> implements MetricFamily {
  /** The Prometheus type. */
  abstract readonly type: "counter" | "gauge" | "histogram";
  /** The family name. */
  readonly name: string;
  /** The HELP text. */
  readonly help: string;
  /** Label names, sorted. */
  readonly labelNames: readonly string[];
  readonly #series = new Map<string, S>();
  #sorted: S[] | undefined;

  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    histogram = false,
  ) {
    assertMetricName(name);
    assertLabelNames(labelNames, histogram);
    this.name = name;
    this.help = help;
    this.labelNames = [...labelNames].sort();
  }

  /** The series for `labels` (missing labels count as ""), created at 0 if new. */
  series(labels: Labels): S {
    let key = "";
    for (const name of this.labelNames) key += `${labels[name] ?? ""}\0`;
    let series = this.#series.get(key);
    if (series === undefined) {
      series = this.create(renderLabelPairs(this.labelNames, labels));
      this.#series.set(key, series);
      this.#sorted = undefined;
    }
    return series;
  }

  /** Creates an empty series with pre-rendered label pairs. */
  protected abstract create(labels: string): S;
  /** Appends the sample lines of one series. */
  protected abstract renderSeries(series: S, lines: string[]): void;

  render(lines: string[]): void {
    if (this.#series.size === 0) return;
    this.#sorted ??= [...this.#series].sort(([a], [b]) => a < b ? -1 : 1)
      .map(([, series]) => series);
    lines.push(...header(this.name, this.help, this.type));
    for (const series of this.#sorted) this.renderSeries(series, lines);
  }
}

/** One counter series. */
export class CounterSeries {
  /** Current value. */
  value = 0;
  /** Creates the series; `labels` are the rendered label pairs. */
  constructor(readonly labels: string) {}
  /** Adds `by` (default 1, never negative). */
  inc(by = 1): void {
    if (!(by >= 0)) throw new RangeError("a counter cannot decrease");
    this.value += by;
  }
}

/** A counter family. */
export class Counter extends LabelledFamily<CounterSeries> {
  /** Prometheus type. */
  readonly type = "counter";
  /** Adds `by` (default 1) to the series for `labels`. */
  inc(labels: Labels, by = 1): void {
    this.series(labels).inc(by);
  }
  protected create(labels: string): CounterSeries {
    return new CounterSeries(labels);
  }
  protected renderSeries(series: CounterSeries, lines: string[]): void {
    lines.push(sample(this.name, series.labels, series.value));
  }
}

/** One gauge series. */
export class GaugeSeries {
  /** Current value. */
  value = 0;
  /** Creates the series; `labels` are the rendered label pairs. */
  constructor(readonly labels: string) {}
  /** Sets the value. */
  set(value: number): void {
    this.value = value;
  }
  /** Adds `by` (default 1). */
  inc(by = 1): void {
    this.value += by;
  }
  /** Subtracts `by` (default 1). */
  dec(by = 1): void {
    this.value -= by;
  }
}

/** A gauge family. */
export class Gauge extends LabelledFamily<GaugeSeries> {
  /** Prometheus type. */
  readonly type = "gauge";
  /** Sets the series for `labels` to `value`. */
  set(labels: Labels, value: number): void {
    this.series(labels).set(value);
  }
  /** Adds `by` (default 1) to the series for `labels`. */
  inc(labels: Labels, by = 1): void {
    this.series(labels).inc(by);
  }
  /** Subtracts `by` (default 1) from the series for `labels`. */
  dec(labels: Labels, by = 1): void {
    this.series(labels).dec(by);
  }
  protected create(labels: string): GaugeSeries {
    return new GaugeSeries(labels);
  }
  protected renderSeries(series: GaugeSeries, lines: string[]): void {
    lines.push(sample(this.name, series.labels, series.value));
  }
}

/** One histogram series: per-bucket (non-cumulative) counts, sum and count. */
export class HistogramSeries {
  /** Observations per bucket; the `+Inf` bucket is `count`. */
  readonly counts: number[];
  /** Sum of observations. */
  sum = 0;
  /** Number of observations. */
  count = 0;
  readonly #bounds: readonly number[];
  /** Creates the series; `labels` are the rendered label pairs. */
  constructor(readonly labels: string, bounds: readonly number[]) {
    this.#bounds = bounds;
    this.counts = bounds.map(() => 0);
  }
  /** Records one observation (NaN is ignored). */
  observe(value: number): void {
    if (Number.isNaN(value)) return;
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]) i++;
    if (i < bounds.length) this.counts[i]++;
    this.sum += value;
    this.count++;
  }
}

/** A histogram family with fixed upper bounds. */
export class Histogram extends LabelledFamily<HistogramSeries> {
  /** Prometheus type. */
  readonly type = "histogram";
  /** Bucket upper bounds, ascending, without `+Inf`. */
  readonly buckets: readonly number[];
  readonly #le: readonly string[];

  /** Creates the family; `buckets` must be finite and strictly ascending. */
  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    buckets: readonly number[],
  ) {
    super(name, help, labelNames, true);
    const bounds = buckets.filter((b) => b !== Infinity);
    if (bounds.some((b, i) => !Number.isFinite(b) || (i > 0 && b <= bounds[i - 1]))) {
      throw new TypeError(`${name}: buckets must be finite and strictly ascending`);
    }
    this.buckets = bounds;
    this.#le = [...bounds.map(formatNumber), "+Inf"];
  }

  /** Records `value` in the series for `labels`. */
  observe(labels: Labels, value: number): void {
    this.series(labels).observe(value);
  }
  protected create(labels: string): HistogramSeries {
    return new HistogramSeries(labels, this.buckets);
  }
  protected renderSeries(series: HistogramSeries, lines: string[]): void {
    const prefix = series.labels === "" ? "" : `${series.labels},`;
    const bucket = `${this.name}_bucket{${prefix}le="`;
    let cumulative = 0;
    for (let i = 0; i < series.counts.length; i++) {
      cumulative += series.counts[i];
      lines.push(`${bucket}${this.#le[i]}"} ${formatNumber(cumulative)}`);
    }
    lines.push(`${bucket}+Inf"} ${formatNumber(series.count)}`);
    lines.push(sample(`${this.name}_sum`, series.labels, series.sum));
    lines.push(sample(`${this.name}_count`, series.labels, series.count));
  }
}

/**
 * A family with one unlabelled sample read at render time; omitted when
 * `read` returns `undefined` (e.g. the value is not available here).
 */
export class CallbackFamily implements MetricFamily {
  /** Creates the family. */
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: "counter" | "gauge",
    readonly read: () => number | undefined,
  ) {
    assertMetricName(name);
  }
  render(lines: string[]): void {
    const value = this.read();
    if (value === undefined) return;
    lines.push(...header(this.name, this.help, this.type));
    lines.push(sample(this.name, "", value));
  }
}
