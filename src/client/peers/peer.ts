import { BLOCK_SIZE } from "../../torrent/layout.ts";
import { type PeerConnection, PeerExtensions } from "../../wire/mod.ts";
import { Bitfield } from "../../torrent/bitfield.ts";
import { BLOCK_KEY_SHIFT } from "../picker/types.ts";
import { PipelineSizer } from "./pipeline.ts";
import { RateMeter } from "../../util/rate.ts";

/** A block we asked a peer for, or a peer asked us for. */
export interface BlockRef {
  index: number;
  begin: number;
  length: number;
}

/**
 * The key of our request for the block at `begin` of piece `index` in `Peer.requestedAt`:
 * the picker's block key (BLOCK_KEY_SHIFT). -1 for a begin no request of ours can have.
 */
export function requestKey(index: number, begin: number): number {
  if (begin % BLOCK_SIZE !== 0 || begin >= BLOCK_KEY_SHIFT * BLOCK_SIZE) return -1;
  return index * BLOCK_KEY_SHIFT + begin / BLOCK_SIZE;
}

/** Requests from a peer beyond this many queued are dropped (we advertise `reqq` 2000). */
export const MAX_QUEUED_UPLOADS = 4000;
/** Largest block we serve; BEP 3 clients ask for 16 KiB, some up to 128 KiB. */
export const MAX_REQUEST_LENGTH = 128 * 1024;
/** Above this many queued outgoing bytes we wait for the socket before reading more blocks. */
const SEND_HIGH_WATER = 1 << 20;

/** The state BEP 3 keeps per connection, plus counters the scheduler and choker use. */
export class Peer {
  readonly key: string;
  has: Bitfield;
  amChoking = true;
  amInterested = false;
  peerChoking = true;
  peerInterested = false;
  /** When each outstanding request (by `requestKey`) was sent: measures request latency. */
  readonly requestedAt = new Map<number, number>();
  /** Lowest request latency seen lately (ms): the round trip without the peer's queueing. */
  minLatencyMs = Infinity;
  /** Our request pipeline depth for this peer (bandwidth-delay product, capped by `reqq`). */
  readonly pipeline = new PipelineSizer();
  readonly down = new RateMeter();
  readonly up = new RateMeter();
  /** Pieces that failed their hash check with data from this peer. */
  strikes = 0;
  /** The BEP 10 extensions the peer speaks and the ids it receives them on. */
  readonly extensions = new PeerExtensions();
  /** Pieces the peer says we may request while choked (BEP 6). */
  readonly allowedFast = new Set<number>();
  lastBlockAt = 0;
  /** Since when we have been interested and choked by the peer (ms), if we are. */
  waitingSince: number | undefined;
  /** A request of ours to this peer timed out: it gets no new requests until it sends data. */
  snubbed = false;
  /** Why we closed the connection, for the peer-disconnected event. */
  closeReason: string | undefined;
  readonly connectedAt: number;
  readonly #uploads: BlockRef[] = [];
  #serving = false;

  constructor(readonly conn: PeerConnection, pieceCount: number, now: number) {
    this.key = `${conn.hostname}:${conn.port}`;
    this.has = new Bitfield(pieceCount);
    this.connectedAt = now;
    this.lastBlockAt = now;
  }

  get isSeed(): boolean {
    return this.has.isComplete();
  }

  setChoking(choke: boolean): void {
    if (this.amChoking === choke) return;
    this.amChoking = choke;
    this.conn.send({ type: choke ? "choke" : "unchoke" });
    // BEP 3: choking discards the peer's pending requests. With BEP 6 each one is rejected.
    if (choke) {
      for (const r of this.#uploads.splice(0)) {
        if (this.conn.remoteFast) this.#reject(r);
      }
    }
  }

  setInterested(interested: boolean): void {
    if (this.amInterested === interested) return;
    this.amInterested = interested;
    this.conn.send({ type: interested ? "interested" : "notInterested" });
    this.#updateWaiting();
  }

  /** BEP 6: tells the peer we will not serve `r` (built field by field: `r` may be a request). */
  #reject(r: BlockRef) {
    this.conn.send({ type: "reject", index: r.index, begin: r.begin, length: r.length });
  }

  /** The peer choked (true) or unchoked (false) us. */
  setPeerChoking(choking: boolean): void {
    this.peerChoking = choking;
    this.#updateWaiting();
  }

  #updateWaiting() {
    if (!this.amInterested || !this.peerChoking) this.waitingSince = undefined;
    else this.waitingSince ??= performance.now();
  }

  /** Queues a peer's request; returns false when it is refused (full queue). */
  queueUpload(r: BlockRef): boolean {
    if (this.#uploads.length >= MAX_QUEUED_UPLOADS) return false;
    this.#uploads.push({ index: r.index, begin: r.begin, length: r.length });
    return true;
  }

  cancelUpload(r: BlockRef): void {
    const i = this.#uploads.findIndex((u) =>
      u.index === r.index && u.begin === r.begin && u.length === r.length
    );
    if (i >= 0) this.#uploads.splice(i, 1);
  }

  /**
   * Sends queued blocks one after another, waiting for the socket when its buffer is full, so
   * a fast reader cannot make us hold more than about SEND_HIGH_WATER bytes for it. `read`
   * may answer synchronously with a borrowed view (valid until the next read): it is sent,
   * which copies it, before anything else can run.
   */
  async serveUploads(
    read: (r: BlockRef) => Uint8Array | Promise<Uint8Array>,
    onSent: (bytes: number) => void,
  ): Promise<void> {
    if (this.#serving) return;
    this.#serving = true;
    try {
      while (!this.conn.closed && this.#uploads.length > 0 && !this.amChoking) {
        const r = this.#uploads.shift()!;
        const got = read(r);
        const block = got instanceof Promise ? await got : got;
        // A cancel or a choke may have arrived while we read; a sent block is not undone.
        if (this.amChoking || this.conn.closed) break;
        this.conn.sendPiece(r.index, r.begin, block);
        onSent(block.length);
        if (this.conn.bufferedAmount > SEND_HIGH_WATER) await this.conn.drain(SEND_HIGH_WATER / 2);
      }
    } finally {
      this.#serving = false;
    }
  }
}
