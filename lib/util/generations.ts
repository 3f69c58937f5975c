/**
 * A value that can be replaced while calls are using it: each call holds the
 * generation it started on until it finishes, a replacement serves every later
 * call, and a replaced generation is disposed once its last call has ended.
 * This is how a config reload swaps pipelines without failing a request.
 *
 * @module
 */

interface Slot<T> {
  readonly value: T;
  active: number;
  retired: boolean;
  released: boolean;
}

/** One call's hold on a generation. */
export interface Lease<T> {
  /** The generation. */
  readonly value: T;
  /** Ends the hold; the generation may then be disposed if it was replaced. */
  release(): void;
}

/** Generations of a disposable value, with reference-counted disposal of the old ones. */
export class Generations<T> {
  #current: Slot<T>;
  readonly #dispose: (value: T) => Promise<void>;
  readonly #disposing = new Set<Promise<void>>();

  /** Starts with `first`; `dispose` releases a generation's resources. */
  constructor(first: T, dispose: (value: T) => Promise<void>) {
    this.#current = { value: first, active: 0, retired: false, released: false };
    this.#dispose = dispose;
  }

  /** The generation new calls use. */
  get current(): T {
    return this.#current.value;
  }

  /** Calls in flight on the current generation. */
  get active(): number {
    return this.#current.active;
  }

  /**
   * Takes the current generation for one call: it stays alive until
   * `release()` (call it exactly once).
   */
  acquire(): Lease<T> {
    const slot = this.#current;
    slot.active++;
    return { value: slot.value, release: () => this.#done(slot) };
  }

  #done(slot: Slot<T>): void {
    slot.active--;
    if (slot.retired && slot.active === 0) this.#release(slot);
  }

  /** Makes `next` current; the previous one is disposed after its last call. */
  replace(next: T): void {
    const old = this.#current;
    this.#current = { value: next, active: 0, retired: false, released: false };
    old.retired = true;
    if (old.active === 0) this.#release(old);
  }

  /** Disposes the current generation and waits for every retired one to be disposed. */
  async dispose(): Promise<void> {
    const last = this.#current;
    last.retired = true;
    if (last.active === 0) this.#release(last);
    while (this.#disposing.size > 0) await Promise.allSettled([...this.#disposing]);
  }

  #release(slot: Slot<T>): void {
    if (slot.released) return;
    slot.released = true;
    const done = this.#dispose(slot.value).catch(() => {}).finally(() => {
      this.#disposing.delete(done);
    });
    this.#disposing.add(done);
  }
}
