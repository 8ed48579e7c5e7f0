/** What the choker needs to know about a connected peer. */
export interface ChokePeer {
  key: string;
  /** The peer is interested in our pieces (only interested peers use an upload slot). */
  interested: boolean;
  /** Bytes/s we receive from the peer (ranks peers while downloading: tit-for-tat). */
  downloadRate: number;
  /** Bytes/s we send to the peer (ranks peers while seeding: serve who takes it fastest). */
  uploadRate: number;
}

export interface ChokerOptions {
  /** Upload slots, including the optimistic one. Default 4. */
  slots?: number;
  /** How often the session should call `rechoke`. Default 10 s. */
  rechokeIntervalMs?: number;
  /** How long an optimistic unchoke lasts before rotating. Default 30 s. */
  optimisticIntervalMs?: number;
  /** Injected for deterministic tests; default Math.random. */
  random?: () => number;
}

/**
 * Upload slot allocation (BEP 3 "choking"): the fastest interested peers get the regular
 * slots, plus one optimistic slot that rotates every 30 s so newcomers get a chance to prove
 * themselves. Pure: the session passes the clock and sends the choke/unchoke messages.
 */
export class Choker {
  readonly slots: number;
  readonly rechokeIntervalMs: number;
  readonly optimisticIntervalMs: number;
  readonly #random: () => number;
  #optimistic: string | undefined;
  #optimisticSince = 0;
  #lastRechoke: number | undefined;

  constructor(opts: ChokerOptions = {}) {
    this.slots = Math.max(1, opts.slots ?? 4);
    this.rechokeIntervalMs = opts.rechokeIntervalMs ?? 10_000;
    this.optimisticIntervalMs = opts.optimisticIntervalMs ?? 30_000;
    this.#random = opts.random ?? Math.random;
  }

  /** The current optimistic unchoke, if any. */
  get optimistic(): string | undefined {
    return this.#optimistic;
  }

  /** True when a periodic rechoke is due at `now`. */
  due(now: number): boolean {
    return this.#lastRechoke === undefined || now - this.#lastRechoke >= this.rechokeIntervalMs;
  }

  /**
   * The peers to unchoke now (all others are choked). Ranks interested peers by download
   * rate from them, or by upload rate to them when `seeding`; the best `slots - 1` keep a
   * regular slot, and one more interested peer holds the optimistic slot.
   */
  rechoke(peers: readonly ChokePeer[], seeding: boolean, now: number): Set<string> {
    this.#lastRechoke = now;
    const interested = peers.filter((p) => p.interested);
    const rate = (p: ChokePeer) => (seeding ? p.uploadRate : p.downloadRate);
    // Stable order for equal rates: by key, so results do not depend on input order.
    const ranked = [...interested].sort((a, b) =>
      rate(b) - rate(a) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)
    );
    const unchoked = new Set(ranked.slice(0, this.slots - 1).map((p) => p.key));

    const current = interested.find((p) => p.key === this.#optimistic);
    const expired = now - this.#optimisticSince >= this.optimisticIntervalMs;
    if (!current || unchoked.has(current.key) || expired) {
      const pool = interested.filter((p) => !unchoked.has(p.key) && p.key !== this.#optimistic);
      // Keep the current one only if nobody else could take its turn.
      const fallback = current && !unchoked.has(current.key) ? current : undefined;
      const chosen = pool.length > 0 ? pool[Math.floor(this.#random() * pool.length)] : fallback;
      if (chosen?.key !== this.#optimistic) this.#optimisticSince = now;
      this.#optimistic = chosen?.key;
    }
    if (this.#optimistic !== undefined) unchoked.add(this.#optimistic);
    return unchoked;
  }
}
