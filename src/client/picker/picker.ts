import { BLOCK_SIZE } from "../../torrent/layout.ts";
import type { Bitfield } from "../../torrent/bitfield.ts";
import { BlockHolders } from "./holders.ts";
import { bestIdlePieces, IDLE } from "./scan.ts";

import {
  BLOCK_KEY_SHIFT,
  type BlockRequest,
  PeerRequest,
  PickerOptions,
  PickPeer,
  ReceiveResult,
  TimeoutResult,
} from "./types.ts";

export type {
  BlockRequest,
  PeerRequest,
  PickerOptions,
  PickPeer,
  ReceiveResult,
  TimeoutResult,
} from "./types.ts";

const WANTED = 0;
const REQUESTED = 1;
const RECEIVED = 2;
const ACTIVE = 1;
const HAVE = 2;

const NONE: readonly PeerRequest[] = Object.freeze([]);
const NOTHING: ReceiveResult = Object.freeze({ cancel: NONE });
const DUPLICATE: ReceiveResult = Object.freeze({ duplicate: true, cancel: NONE });

/** A piece with at least one block requested or received. */
interface Active {
  index: number;
  size: number;
  state: Uint8Array;
  /** Per block: peers that were asked for it and when. Set exactly for REQUESTED blocks. */
  holders: BlockHolders;
  buffer: Uint8Array | undefined;
  wanted: number;
  received: number;
  contributors: Set<string>;
}

/**
 * The download scheduler's core: which blocks to request from which peer. Pure and
 * synchronous; the session feeds it peer events and a clock. See SCHEDULER.md.
 */
export class PiecePicker {
  readonly have: Bitfield;
  readonly #layout: PickerOptions["layout"];
  readonly #cap: number;
  readonly #maxDup: number;
  readonly #randomFirst: number;
  readonly #avail: Int32Array;
  /** A random permutation rank per piece: the tie-break that spreads peers over pieces. */
  readonly #rank: Uint32Array;
  readonly #pieceState: Uint8Array;
  readonly #active = new Map<number, Active>();
  readonly #byPeer = new Map<string, Set<number>>();
  #unverified = 0;
  #wanted = 0;
  /** Idle pieces some peer has: kept up to date so picks scan only when one can start. */
  #idleAvail = 0;
  /** Blocks in a full piece. */
  readonly #blocksPerPiece: number;
  /** The smallest piece size: when even that does not fit under the cap, nothing can start. */
  readonly #minPiece: number;
  /** Buffers of verified or failed pieces, reused for new ones (no churn for the GC). */
  readonly #pool: Uint8Array[] = [];
  #endgame = false;

  constructor(opts: PickerOptions) {
    const n = opts.layout.pieceCount;
    if (opts.have.size !== n) throw new RangeError(`have has ${opts.have.size} bits, not ${n}`);
    this.have = opts.have;
    this.#layout = opts.layout;
    this.#cap = opts.maxUnverifiedBytes ?? 64 * 1024 * 1024;
    this.#maxDup = Math.max(1, opts.maxDuplicates ?? 3);
    this.#randomFirst = opts.randomFirst ?? 4;
    this.#avail = new Int32Array(n);
    this.#pieceState = new Uint8Array(n);
    for (const i of opts.have.indexes()) this.#pieceState[i] = HAVE;
    this.#minPiece = n === 0 ? 0 : Math.min(opts.layout.pieceSize(0), opts.layout.pieceSize(n - 1));
    this.#blocksPerPiece = n === 0 ? 1 : Math.ceil(opts.layout.pieceSize(0) / BLOCK_SIZE);
    const random = opts.random ?? Math.random;
    this.#rank = new Uint32Array(n);
    for (let i = 0; i < n; i++) this.#rank[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      const t = this.#rank[i]!;
      this.#rank[i] = this.#rank[j]!;
      this.#rank[j] = t;
    }
  }

  /** True once every missing block we can get is already requested (duplicates allowed). */
  get endgame(): boolean {
    return this.#endgame;
  }

  /** Bytes of pieces in progress: what the memory cap limits. */
  get unverifiedBytes(): number {
    return this.#unverified;
  }

  /** How many peers announced piece `index`. */
  availability(index: number): number {
    return this.#avail[index] ?? 0;
  }

  /** Blocks currently requested from `peerKey`. */
  inflight(peerKey: string): number {
    return this.#byPeer.get(peerKey)?.size ?? 0;
  }

  peerHas(index: number): void {
    if (index < 0 || index >= this.#avail.length) return;
    if (this.#avail[index]!++ === 0 && this.#pieceState[index] === IDLE) this.#idleAvail++;
  }

  peerBitfield(bits: Bitfield): void {
    for (const i of bits.indexes()) this.peerHas(i);
  }

  peerHaveAll(): void {
    for (let i = 0; i < this.#avail.length; i++) this.peerHas(i);
  }

  /** A peer left: forget its pieces. Call `release` too, for its requests. */
  peerGone(bits: Bitfield): void {
    for (const i of bits.indexes()) {
      if (this.#avail[i] === 0) continue;
      if (--this.#avail[i]! === 0 && this.#pieceState[i] === IDLE) this.#idleAvail--;
    }
  }

  /**
   * Up to `peer.count` blocks to request from `peer`: blocks of partial pieces first, then new
   * pieces (random until `randomFirst` pieces are done, then rarest first) while the memory
   * cap allows, then in endgame blocks already requested from others.
   */
  pick(peer: PickPeer): BlockRequest[] {
    const out: BlockRequest[] = [];
    if (peer.count <= 0) return out;
    for (const p of this.#active.values()) {
      if (out.length >= peer.count) return out;
      if (p.wanted > 0 && peer.has.has(p.index)) this.#take(p, peer, out);
    }
    if (out.length < peer.count) {
      // The O(pieces) scan runs only when a new piece could start: not while at the cap,
      // which would otherwise mean a scan for every block received.
      const capped = this.#active.size > 0 && this.#unverified + this.#minPiece > this.#cap;
      if (!capped && this.#idleAvail > 0) {
        // This many full pieces (one more for a short last piece) fill the request; asking for
        // one piece per block made the scan's sorted insertion 128 deep.
        const best = bestIdlePieces(this.#pieceState, this.#avail, this.#rank, peer.has, {
          count: Math.ceil((peer.count - out.length) / this.#blocksPerPiece) + 1,
          rarestFirst: this.have.count() >= this.#randomFirst,
        });
        for (const index of best) {
          if (out.length >= peer.count) break;
          const size = this.#layout.pieceSize(index);
          if (this.#active.size > 0 && this.#unverified + size > this.#cap) break;
          this.#take(this.#start(index, size), peer, out);
        }
      }
      this.#endgame = this.#wanted === 0 && this.#idleAvail === 0 && this.#active.size > 0;
    }
    if (this.#endgame && out.length < peer.count) this.#duplicate(peer, out);
    return out;
  }

  /** A block arrived from `peerKey`. See ReceiveResult. */
  received(
    peerKey: string,
    index: number,
    begin: number,
    length: number,
    data: Uint8Array,
    _now: number,
  ): ReceiveResult {
    const p = this.#active.get(index);
    const b = begin / BLOCK_SIZE;
    if (
      !p || !Number.isInteger(b) || b >= p.state.length || data.length !== length ||
      length !== blockLength(p.size, b) || p.state[b] === RECEIVED
    ) {
      return DUPLICATE;
    }
    let cancel: PeerRequest[] | undefined;
    if (p.state[b] === REQUESTED) {
      const only = p.holders.only(b);
      if (only !== undefined) {
        this.#byPeer.get(only)?.delete(index * BLOCK_KEY_SHIFT + b);
        if (only !== peerKey) cancel = [{ peerKey: only, index, begin, length }];
      } else {
        for (const key of p.holders.keys(b)) {
          this.#byPeer.get(key)?.delete(index * BLOCK_KEY_SHIFT + b);
          if (key !== peerKey) (cancel ??= []).push({ peerKey: key, index, begin, length });
        }
      }
      p.holders.clear(b);
    } else {
      p.wanted--; // came back after a timeout or release: still useful
      this.#wanted--;
    }
    p.state[b] = RECEIVED;
    p.received++;
    p.contributors.add(peerKey);
    p.buffer ??= this.#pool.length > 0 && p.size === this.#layout.pieceSize(0)
      ? this.#pool.pop()!
      : new Uint8Array(p.size);
    p.buffer.set(data, begin);
    if (p.received === p.state.length) return { complete: p.buffer, cancel: cancel ?? NONE };
    // The common case, once per block: no allocation.
    return cancel ? { cancel } : NOTHING;
  }

  /** Piece `index` passed its hash check (or was found on disk): we have it. */
  verified(index: number): void {
    const p = this.#active.get(index);
    if (p) {
      for (let b = 0; b < p.state.length; b++) this.#unrequest(p, b);
      this.#drop(p);
      this.#recycle(p.buffer);
    }
    if (this.#pieceState[index] === IDLE && this.#avail[index]! > 0) this.#idleAvail--;
    this.#pieceState[index] = HAVE;
    this.have.set(index);
  }

  /** Piece `index` failed its hash check: it is wanted again. Returns the peers that sent it. */
  failed(index: number): string[] {
    const p = this.#active.get(index);
    if (!p) return [];
    for (let b = 0; b < p.state.length; b++) this.#unrequest(p, b);
    this.#drop(p);
    this.#recycle(p.buffer);
    return [...p.contributors];
  }

  /** The peer is gone or choked us: its requested blocks are wanted again. */
  release(peerKey: string): BlockRequest[] {
    const keys = this.#byPeer.get(peerKey);
    this.#byPeer.delete(peerKey);
    const out: BlockRequest[] = [];
    for (const key of keys ?? []) out.push(this.#giveBack(peerKey, key));
    return out;
  }

  /** The peer rejected one request (BEP 6): that block is wanted again. */
  rejected(peerKey: string, index: number, begin: number): void {
    const key = index * BLOCK_KEY_SHIFT + begin / BLOCK_SIZE;
    if (this.#byPeer.get(peerKey)?.delete(key)) this.#giveBack(peerKey, key);
  }

  /** Requests made at or before `now - ms` go back to wanted; their peers count as snubbed. */
  timeouts(now: number, ms: number): TimeoutResult {
    const expired: PeerRequest[] = [];
    const snubbed: string[] = [];
    for (const [peerKey, keys] of this.#byPeer) {
      for (const key of keys) {
        const p = this.#active.get(Math.floor(key / BLOCK_KEY_SHIFT))!;
        const at = p.holders.at(key % BLOCK_KEY_SHIFT, peerKey)!;
        if (at > now - ms) continue;
        keys.delete(key);
        expired.push({ peerKey, ...this.#giveBack(peerKey, key) });
        if (snubbed.at(-1) !== peerKey) snubbed.push(peerKey);
      }
    }
    return { expired, snubbed };
  }

  /** Throws if the bookkeeping is inconsistent. Tests call it after every step. */
  checkInvariants(): void {
    const fail = (why: string) => {
      throw new Error(`picker invariant: ${why}`);
    };
    let wanted = 0;
    let bytes = 0;
    let requests = 0;
    let idle = 0;
    for (let i = 0; i < this.#pieceState.length; i++) {
      const s = this.#pieceState[i];
      if (s === IDLE && this.#avail[i]! > 0) idle++;
      if ((s === HAVE) !== this.have.has(i)) fail(`piece ${i} state ${s} vs have bit`);
      if ((s === ACTIVE) !== this.#active.has(i)) fail(`piece ${i} state ${s} vs active map`);
      if (this.#avail[i]! < 0) fail(`piece ${i} availability < 0`);
    }
    for (const p of this.#active.values()) {
      bytes += p.size;
      let w = 0;
      let r = 0;
      for (let b = 0; b < p.state.length; b++) {
        const holders = p.holders.count(b);
        const st = p.state[b];
        if (st === WANTED) w++;
        if (st === RECEIVED) r++;
        if ((st === REQUESTED) !== (holders > 0)) {
          fail(`piece ${p.index} block ${b} state ${st} with ${holders} holders`);
        }
        if (holders > this.#maxDup) fail(`block ${p.index}/${b} over-duplicated`);
        for (const key of p.holders.keys(b)) {
          requests++;
          if (!this.#byPeer.get(key)?.has(p.index * BLOCK_KEY_SHIFT + b)) {
            fail(`index lacks ${key}`);
          }
        }
      }
      if (w !== p.wanted || r !== p.received) fail(`piece ${p.index} counters`);
      if ((p.buffer !== undefined) !== r > 0) fail(`piece ${p.index} buffer`);
      if (r === 0 && w === p.state.length) fail(`piece ${p.index} active with nothing in flight`);
      wanted += w;
    }
    let indexed = 0;
    for (const keys of this.#byPeer.values()) indexed += keys.size;
    if (indexed !== requests) fail(`per-peer index has ${indexed} requests, blocks ${requests}`);
    if (idle !== this.#idleAvail) fail(`idle available ${this.#idleAvail}, counted ${idle}`);
    if (wanted !== this.#wanted) fail(`wanted total ${this.#wanted}, counted ${wanted}`);
    if (bytes !== this.#unverified) fail(`unverified ${this.#unverified}, counted ${bytes}`);
    if (bytes > this.#cap && this.#active.size > 1) fail(`memory cap exceeded: ${bytes}`);
  }

  #take(p: Active, peer: PickPeer, out: BlockRequest[]): void {
    for (let b = 0; b < p.state.length && out.length < peer.count; b++) {
      if (p.state[b] !== WANTED) continue;
      p.state[b] = REQUESTED;
      p.holders.add(b, peer.key, peer.now);
      p.wanted--;
      this.#wanted--;
      this.#index(peer.key).add(p.index * BLOCK_KEY_SHIFT + b);
      out.push({ index: p.index, begin: b * BLOCK_SIZE, length: blockLength(p.size, b) });
    }
  }

  #duplicate(peer: PickPeer, out: BlockRequest[]): void {
    for (const p of this.#active.values()) {
      if (!peer.has.has(p.index)) continue;
      for (let b = 0; b < p.state.length && out.length < peer.count; b++) {
        const holders = p.holders.count(b);
        if (holders === 0 || holders >= this.#maxDup || p.holders.has(b, peer.key)) continue;
        p.holders.add(b, peer.key, peer.now);
        this.#index(peer.key).add(p.index * BLOCK_KEY_SHIFT + b);
        out.push({ index: p.index, begin: b * BLOCK_SIZE, length: blockLength(p.size, b) });
      }
    }
  }

  #start(index: number, size: number): Active {
    const blocks = Math.ceil(size / BLOCK_SIZE);
    const p: Active = {
      index,
      size,
      state: new Uint8Array(blocks),
      holders: new BlockHolders(blocks),
      buffer: undefined,
      wanted: blocks,
      received: 0,
      contributors: new Set(),
    };
    this.#active.set(index, p);
    this.#pieceState[index] = ACTIVE;
    if (this.#avail[index]! > 0) this.#idleAvail--;
    this.#unverified += size;
    this.#wanted += blocks;
    return p;
  }

  /**
   * Keeps a finished piece's buffer for reuse (unless detached or odd-sized). The pool never
   * holds more buffers than were alive at once, and that is bounded by the memory cap; with
   * a smaller pool, each piece started beyond it allocated a buffer the GC freed later, and
   * the process's memory crept up over a download (bench/RESULTS.md).
   */
  #recycle(buffer: Uint8Array | undefined): void {
    const size = this.#layout.pieceSize(0);
    if (buffer?.length !== size || this.#pool.length >= Math.max(1, this.#cap / size)) return;
    this.#pool.push(buffer);
  }

  /** Removes an active piece (verified, failed, or nothing left in flight). */
  #drop(p: Active): void {
    this.#active.delete(p.index);
    this.#pieceState[p.index] = IDLE;
    if (this.#avail[p.index]! > 0) this.#idleAvail++;
    this.#unverified -= p.size;
    this.#wanted -= p.wanted;
  }

  /** Removes every request of block `b` (used when the whole piece goes away). */
  #unrequest(p: Active, b: number): void {
    for (const key of p.holders.keys(b)) {
      this.#byPeer.get(key)?.delete(p.index * BLOCK_KEY_SHIFT + b);
    }
    p.holders.clear(b);
  }

  /** One peer no longer holds block `key` (already removed from its index). */
  #giveBack(peerKey: string, key: number): BlockRequest {
    const p = this.#active.get(Math.floor(key / BLOCK_KEY_SHIFT))!;
    const b = key % BLOCK_KEY_SHIFT;
    p.holders.remove(b, peerKey);
    if (p.holders.count(b) === 0) {
      p.state[b] = WANTED;
      p.wanted++;
      this.#wanted++;
      if (p.received === 0 && p.wanted === p.state.length) this.#drop(p);
    }
    return { index: p.index, begin: b * BLOCK_SIZE, length: blockLength(p.size, b) };
  }

  #index(peerKey: string): Set<number> {
    let keys = this.#byPeer.get(peerKey);
    if (!keys) this.#byPeer.set(peerKey, keys = new Set());
    return keys;
  }
}

function blockLength(pieceSize: number, block: number): number {
  return Math.min(BLOCK_SIZE, pieceSize - block * BLOCK_SIZE);
}
