/**
 * Runs one plugin call under a timeout and an optional cancellation signal.
 * The plugin receives an `AbortSignal` that fires on either; the host stops
 * waiting at once even if the plugin ignores the signal.
 *
 * @module
 */

/** How a bounded call ended. */
export type BoundedOutcome<T> =
  | { readonly kind: "value"; readonly value: T }
  | { readonly kind: "error"; readonly error: unknown }
  | { readonly kind: "timeout" }
  | { readonly kind: "cancelled" };

function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}

/**
 * Calls `fn` with a signal aborted after `timeoutMs` or when `cancel` aborts.
 * A synchronous result is taken as is, without a timer.
 */
export function runBounded<T>(
  timeoutMs: number,
  cancel: AbortSignal | undefined,
  fn: (signal: AbortSignal) => T | PromiseLike<T>,
): Promise<BoundedOutcome<T>> {
  const outcome = callBounded(timeoutMs, cancel, fn);
  return outcome instanceof Promise ? outcome : Promise.resolve(outcome);
}

/**
 * {@link runBounded} that hands back the outcome of a synchronous `fn` (a
 * value or a thrown error) at once instead of in a promise, so that a caller
 * whose plugin answered synchronously can go on without a promise turn.
 */
export function callBounded<T>(
  timeoutMs: number,
  cancel: AbortSignal | undefined,
  fn: (signal: AbortSignal) => T | PromiseLike<T>,
): BoundedOutcome<T> | Promise<BoundedOutcome<T>> {
  const controller = new AbortController();
  let result: T | PromiseLike<T>;
  try {
    result = fn(controller.signal);
  } catch (error) {
    return { kind: "error", error };
  }
  if (!isThenable(result)) return { kind: "value", value: result };
  const pending = result;
  return new Promise((resolve) => {
    let done = false;
    const finish = (outcome: BoundedOutcome<T>) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      cancel?.removeEventListener("abort", onCancel);
      resolve(outcome);
    };
    const timer = setTimeout(() => {
      controller.abort(new DOMException(`timed out after ${timeoutMs} ms`, "TimeoutError"));
      finish({ kind: "timeout" });
    }, timeoutMs);
    const onCancel = () => {
      controller.abort(cancel?.reason);
      finish({ kind: "cancelled" });
    };
    if (cancel?.aborted) onCancel();
    else cancel?.addEventListener("abort", onCancel, { once: true });
    pending.then(
      (value) => finish({ kind: "value", value }),
      (error) => finish({ kind: "error", error }),
    );
  });
}
