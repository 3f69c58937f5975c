/**
 * A Prometheus registry: named families, collect hooks, and the text
 * exposition (format 0.0.4) with families sorted by name and empty families
 * omitted.
 *
 * @module
 */

import { Counter, Gauge, Histogram, type MetricFamily } from "./metrics_families.ts";

/** Holds the families of one gateway. */
export class Registry {
  readonly #families = new Map<string, MetricFamily>();
  readonly #collectors: (() => void)[] = [];
  #sorted: MetricFamily[] | undefined;

  /** Adds a family; throws a `TypeError` when the name is taken. */
  register<F extends MetricFamily>(family: F): F {
    if (this.#families.has(family.name)) {
      throw new TypeError(`metric ${family.name} is already registered`);
    }
    this.#families.set(family.name, family);
    this.#sorted = undefined;
    return family;
  }

  /**
   * The counter `name`, registered on first use. Asking again with the same
   * label names returns the same family; anything else throws a `TypeError`.
   */
  counter(name: string, help: string, labelNames: readonly string[]): Counter {
    const family = new Counter(name, help, labelNames);
    return this.#reuse(family, Counter) ?? this.register(family);
  }

  /** The gauge `name`, registered on first use (see {@link counter}). */
  gauge(name: string, help: string, labelNames: readonly string[]): Gauge {
    const family = new Gauge(name, help, labelNames);
    return this.#reuse(family, Gauge) ?? this.register(family);
  }

  /** The histogram `name`, registered on first use (buckets must match too). */
  histogram(
    name: string,
    help: string,
    labelNames: readonly string[],
    buckets: readonly number[],
  ): Histogram {
    const family = new Histogram(name, help, labelNames, buckets);
    const existing = this.#reuse(family, Histogram);
    if (existing && existing.buckets.join() !== family.buckets.join()) {
      throw new TypeError(`metric ${name} is registered with other buckets`);
    }
    return existing ?? this.register(family);
  }

  /** Runs `fn` at the start of every {@link render}, to refresh gauges; returns its removal. */
  onCollect(fn: () => void): () => void {
    this.#collectors.push(fn);
    return () => {
      const index = this.#collectors.indexOf(fn);
      if (index >= 0) this.#collectors.splice(index, 1);
    };
  }

  /**
   * Runs the collect hooks, then renders every family with series. A hook
   * that throws aborts the render with its error.
   */
  render(): string {
    for (const collect of this.#collectors) collect();
    this.#sorted ??= [...this.#families.values()].sort((a, b) => a.name < b.name ? -1 : 1);
    const lines: string[] = [];
    for (const family of this.#sorted) family.render(lines);
    return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
  }

  #reuse<F extends Counter | Gauge | Histogram>(
    family: F,
    kind: abstract new (...args: never[]) => F,
  ): F | undefined {
    const existing = this.#families.get(family.name);
    if (existing === undefined) return undefined;
    if (
      !(existing instanceof kind) ||
      existing.labelNames.join() !== family.labelNames.join()
    ) {
      throw new TypeError(
        `metric ${family.name} is already registered with another type or labels`,
      );
    }
    return existing;
  }
}
