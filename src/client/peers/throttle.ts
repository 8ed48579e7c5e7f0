/**
 * A token bucket for rate limits (e.g. a seeder's upload cap).
 * @module
 */

export interface TokenBucketOptions {
  /** Bytes that may pass at once after an idle spell (default a tenth of a second's worth, ≥ 16 KiB). */
  burst?: number;
  /** Clock in milliseconds (default performance.now). */
  now?: () => number;
}

/**
 * Lets `rate` bytes per second through on average. Takers that find the bucket empty go into
 * debt and wait it off, so concurrent takers are served in the order they asked and the long-run
 * rate is exact whatever the block size.
 */
export class TokenBucket {
  readonly rate: number;
  readonly burst: number;
  readonly #now: () => number;
  #tokens: number;
  #last: number;

  /** @throws {RangeError} for a rate that is not a positive number. */
  constructor(rate: number, options: TokenBucketOptions = {}) {
    if (!(rate > 0) || !Number.isFinite(rate)) throw new RangeError(`bad rate ${rate}`);
    this.rate = rate;
    this.burst = options.burst ?? Math.max(16 * 1024, rate / 10);
    this.#now = options.now ?? (() => performance.now());
    this.#last = this.#now();
    this.#tokens = this.burst;
  }

  /**
   * Takes `bytes`; returns how many milliseconds the caller must wait before sending them
   * (0 when they fit now). Pure bookkeeping: `take` does the waiting.
   */
  reserve(bytes: number): number {
    const now = this.#now();
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#last) * this.rate) / 1000);
    this.#last = now;
    this.#tokens -= bytes;
    return this.#tokens >= 0 ? 0 : (-this.#tokens * 1000) / this.rate;
  }

  /** Waits until `bytes` may pass. Resolves early (never rejects) when `signal` aborts. */
  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    const ms = this.reserve(bytes);
    if (ms <= 0 || signal?.aborted) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener("abort", done, { once: true });
    });
  }
}
