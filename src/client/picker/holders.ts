const NONE: readonly string[] = Object.freeze([]);

/**
 * Who was asked for each block of an active piece, and when. Outside endgame a block has at
 * most one holder, kept in two flat arrays: a Map per requested block (what this replaced)
 * was an allocation per request, ~65,000 per GiB, that lived long enough to reach V8's old
 * generation. Endgame duplicates go to a per-block Map, made only for those blocks.
 */
export class BlockHolders {
  readonly #first: (string | undefined)[];
  readonly #firstAt: Float64Array;
  #more: Map<number, Map<string, number>> | undefined;

  constructor(blocks: number) {
    this.#first = new Array(blocks).fill(undefined);
    this.#firstAt = new Float64Array(blocks);
  }

  /** How many peers hold block `b`. */
  count(b: number): number {
    if (this.#first[b] === undefined) return 0;
    return 1 + (this.#more?.get(b)?.size ?? 0);
  }

  /** The peers holding block `b` (first the one asked first). */
  keys(b: number): readonly string[] {
    const first = this.#first[b];
    if (first === undefined) return NONE;
    const more = this.#more?.get(b);
    return more ? [first, ...more.keys()] : [first];
  }

  /** The one peer holding `b` when it has exactly one holder (the common case), else undefined. */
  only(b: number): string | undefined {
    return this.#more?.has(b) ? undefined : this.#first[b];
  }

  has(b: number, key: string): boolean {
    return this.#first[b] === key || (this.#more?.get(b)?.has(key) ?? false);
  }

  /** When `key` was asked for block `b`, if it holds it. */
  at(b: number, key: string): number | undefined {
    if (this.#first[b] === key) return this.#firstAt[b];
    return this.#more?.get(b)?.get(key);
  }

  add(b: number, key: string, now: number): void {
    if (this.#first[b] === undefined) {
      this.#first[b] = key;
      this.#firstAt[b] = now;
      return;
    }
    if (this.#first[b] === key) return;
    this.#more ??= new Map();
    let more = this.#more.get(b);
    if (!more) this.#more.set(b, more = new Map());
    more.set(key, now);
  }

  /** `key` no longer holds block `b`. */
  remove(b: number, key: string): void {
    const more = this.#more?.get(b);
    if (this.#first[b] === key) {
      // Promote the next holder, if any.
      const next = more?.entries().next();
      if (more && next && !next.done) {
        this.#first[b] = next.value[0];
        this.#firstAt[b] = next.value[1];
        more.delete(next.value[0]);
      } else this.#first[b] = undefined;
    } else more?.delete(key);
    if (more?.size === 0) this.#more!.delete(b);
  }

  /** Block `b` has no holders any more. */
  clear(b: number): void {
    this.#first[b] = undefined;
    this.#more?.delete(b);
  }
}
