/**
 * host.json `maxConcurrentRequests` / `maxOutstandingRequests`: at most `maxConcurrent` requests execute at
 * once, the rest wait in order; when executing + waiting would exceed `maxOutstanding`, the request is
 * rejected at once (the host answers 429).
 */
export class RequestLimiter {
  #running = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(
    private readonly maxConcurrent: number | undefined,
    private readonly maxOutstanding: number | undefined,
  ) {}

  get outstanding(): number {
    return this.#running + this.#waiting.length;
  }

  /** Resolves to a release function, or undefined when the request must be rejected. */
  async acquire(): Promise<(() => void) | undefined> {
    if (this.maxOutstanding !== undefined && this.outstanding >= this.maxOutstanding) return undefined;
    if (this.maxConcurrent !== undefined && this.#running >= this.maxConcurrent) {
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#running++;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      // The slot passes straight to the next waiter, so #running stays the same.
      if (next) next();
      else this.#running--;
    };
  }
}
