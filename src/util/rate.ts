/**
 * Transfer rate over a sliding window, for progress displays, the choker and the request
 * pipeline.
 * @module
 */

export interface RateMeterOptions {
  /** Length of the window the rate is averaged over (default 5000 ms). */
  windowMs?: number;
  /** Clock in milliseconds used when a call passes no time (default performance.now). */
  now?: () => number;
}

const BUCKETS = 20;

/**
 * Bytes per second over the last `windowMs`. Samples are summed into `windowMs / 20` buckets,
 * so memory stays constant however many blocks arrive per second. Every method takes an
 * optional `now` (same clock as the others: callers that pass times must always pass them).
 */
export class RateMeter {
  readonly #windowMs: number;
  readonly #bucketMs: number;
  readonly #now: () => number;
  /** Time of the first call: until a full window has passed, the rate is over this span. */
  #startedAt: number | undefined;
  /** [bucket start time, bytes], oldest first. */
  #buckets: [number, number][] = [];
  #total = 0;

  constructor(options: RateMeterOptions = {}) {
    this.#windowMs = Math.max(1, options.windowMs ?? 5000);
    this.#bucketMs = this.#windowMs / BUCKETS;
    this.#now = options.now ?? (() => performance.now());
  }

  /** Everything ever added. */
  get total(): number {
    return this.#total;
  }

  add(bytes: number, now: number = this.#now()): void {
    this.#startedAt ??= now;
    this.#total += bytes;
    const start = now - (now % this.#bucketMs);
    const last = this.#buckets.at(-1);
    if (last && last[0] === start) last[1] += bytes;
    else this.#buckets.push([start, bytes]);
    this.#prune(now);
  }

  /** Bytes per second over the window (or since the first call, when that is shorter). */
  rate(now: number = this.#now()): number {
    this.#startedAt ??= now;
    this.#prune(now);
    let sum = 0;
    for (const [, bytes] of this.#buckets) sum += bytes;
    // Early on, dividing by the full window would under-report; by ~0 ms would spike.
    const span = Math.max(this.#bucketMs, Math.min(this.#windowMs, now - this.#startedAt));
    return (sum * 1000) / span;
  }

  #prune(now: number) {
    const oldest = now - this.#windowMs;
    let drop = 0;
    while (drop < this.#buckets.length && this.#buckets[drop]![0] + this.#bucketMs <= oldest) {
      drop++;
    }
    if (drop > 0) this.#buckets = this.#buckets.slice(drop);
  }
}
