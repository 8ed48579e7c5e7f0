/**
 * Events per second over a sliding window of whole seconds, for GET /stats. Counting is one
 * array increment, so it can sit on the announce hot path.
 */
export class RateMeter {
  readonly #buckets: Float64Array;
  #second = 0;
  #total = 0;

  constructor(readonly windowSeconds = 10) {
    // One extra bucket for the second in progress, which is not reported.
    this.#buckets = new Float64Array(windowSeconds + 1);
  }

  /** Counts one event at `nowMs`. */
  tick(nowMs: number): void {
    this.#advance(Math.floor(nowMs / 1000));
    this.#buckets[this.#second % this.#buckets.length]!++;
    this.#total++;
  }

  /** Events ever counted. */
  get total(): number {
    return this.#total;
  }

  /** Mean events per second over the last `windowSeconds` complete seconds. */
  perSecond(nowMs: number): number {
    const now = Math.floor(nowMs / 1000);
    this.#advance(now);
    let sum = 0;
    for (let s = now - this.windowSeconds; s < now; s++) {
      sum += this
        .#buckets[((s % this.#buckets.length) + this.#buckets.length) % this.#buckets.length]!;
    }
    return sum / this.windowSeconds;
  }

  #advance(second: number): void {
    if (second <= this.#second) return;
    // Clear the buckets of the seconds that passed without events.
    const gap = Math.min(second - this.#second, this.#buckets.length);
    for (let i = 1; i <= gap; i++) this.#buckets[(this.#second + i) % this.#buckets.length] = 0;
    this.#second = second;
  }
}
