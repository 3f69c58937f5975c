/**
 * A small process collector: memory, heap, start time and CPU time, read at
 * render time from APIs that need no Deno permission.
 *
 * @module
 */

import process from "node:process";
import { CallbackFamily } from "./metrics_families.ts";
import type { Registry } from "./metrics_registry.ts";

/** Wraps a reader so that a failing one makes its family disappear. */
function optional(read: () => number): () => number | undefined {
  return () => {
    try {
      return read();
    } catch {
      return undefined;
    }
  };
}

/** Registers the `process_*` families on `registry`. */
export function registerProcessMetrics(registry: Registry): void {
  registry.register(
    new CallbackFamily(
      "process_cpu_seconds_total",
      "Total user and system CPU time spent in seconds.",
      "counter",
      optional(() => {
        const { user, system } = process.cpuUsage();
        return (user + system) / 1e6;
      }),
    ),
  );
  registry.register(
    new CallbackFamily(
      "process_resident_memory_bytes",
      "Resident memory size in bytes.",
      "gauge",
      optional(() => Deno.memoryUsage().rss),
    ),
  );
  registry.register(
    new CallbackFamily(
      "process_heap_bytes",
      "Process heap size in bytes (V8 heap total).",
      "gauge",
      optional(() => Deno.memoryUsage().heapTotal),
    ),
  );
  const start = Math.floor(performance.timeOrigin / 1000);
  registry.register(
    new CallbackFamily(
      "process_start_time_seconds",
      "Start time of the process since unix epoch in seconds.",
      "gauge",
      () => start,
    ),
  );
}
