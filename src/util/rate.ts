/**
 * Amount per second over a sliding window: bytes for transfer rates (progress, choker, request
 * pipeline), events for the tracker's announces per second.
 * @module
 */

export interface RateMeterOptions {
  /** Length of the window the rate is averaged over (default 5000 ms). */
  windowMs?: number;
  /** Clock in milliseconds used when a call passes no time (default performance.now). */
  now?: () => number;
}

const BUCKETS = 20;
/** A window overlaps at most BUCKETS + 1 buckets; one more slot holds the bucket in progress. */
const SLOTS = BUCKETS + 2;

/**
 * Amount per second over the last `windowMs`. Amounts are summed into `windowMs / 20` buckets
 * in a fixed ring, so memory is constant and `add` is a few arithmetic operations (it sits on
 * the tracker's announce path and on every received block). Every method takes an optional
 * `now` (same clock as the others: callers that pass times must always pass them).
 */
export class RateMeter {
  readonly #windowMs: number;
  readonly #bucketMs: number;
  readonly #now: () => number;
  /** Time of the first call: until a full window has passed, the rate is over this span. */
  #startedAt: number | undefined;
  /** Which bucket (time / bucketMs) each slot holds; a slot whose id is old is stale. */
  readonly #ids = new Float64Array(SLOTS).fill(-Infinity);
  readonly #sums = new Float64Array(SLOTS);
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

  add(amount: number, now: number = this.#now()): void {
    this.#startedAt ??= now;
    this.#total += amount;
    const id = Math.floor(now / this.#bucketMs);
    const slot = ((id % SLOTS) + SLOTS) % SLOTS;
    if (this.#ids[slot] !== id) {
      this.#ids[slot] = id;
      this.#sums[slot] = 0;
    }
    this.#sums[slot]! += amount;
  }

  /** Amount per second over the window (or since the first call, when that is shorter). */
  rate(now: number = this.#now()): number {
    this.#startedAt ??= now;
    // A bucket counts while any of it lies inside the window.
    const oldest = (now - this.#windowMs) / this.#bucketMs - 1;
    const newest = Math.floor(now / this.#bucketMs);
    let sum = 0;
    for (let slot = 0; slot < SLOTS; slot++) {
      const id = this.#ids[slot]!;
      if (id > oldest && id <= newest) sum += this.#sums[slot]!;
    }
    // Early on, dividing by the full window would under-report; by ~0 ms would spike.
    const span = Math.max(this.#bucketMs, Math.min(this.#windowMs, now - this.#startedAt));
    return (sum * 1000) / span;
  }
}
