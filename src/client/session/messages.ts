import { VERSION } from "../../util/version.ts";
import {
  decodeExtendedHandshake,
  encodeExtendedHandshake,
  EXTENDED_HANDSHAKE_ID,
  type Message,
} from "../../wire/mod.ts";
import { Bitfield } from "../../torrent/bitfield.ts";
import { MAX_REQUEST_LENGTH, type Peer, requestKey } from "../peers/peer.ts";
import { requestBatch } from "../peers/pipeline.ts";
import { MAX_STRIKES, type SessionContext } from "./types.ts";

/**
 * We queue this many requests per peer; told to peers as BEP 10 `reqq`. 2000, what libtorrent
 * seeders (and qBittorrent) advertise: a libtorrent leecher keeps that many requests in flight,
 * so a fast link never idles between its batches. With 500 (libtorrent's own default for
 * what it asks) a libtorrent leecher got 0.8x the rate it gets from qBittorrent; with 2000,
 * 1.27x (bench/RESULTS.md). Keep under MAX_QUEUED_UPLOADS, beyond which requests are dropped.
 */
const OUR_REQQ = 2000;
const CLIENT_VERSION = `btx ${VERSION}`;
/** BEP 6 suggests allowed-fast sets of about 10 pieces; more from one peer is ignored. */
const MAX_ALLOWED_FAST = 32;
/** Queued outgoing bytes above which a peer that still sends refused requests is dropped. */
const MAX_SEND_BACKLOG = 2 * 1024 * 1024;

/**
 * What a session does with each peer message (BEP 3, BEP 6, BEP 10): the protocol side of
 * the session, kept apart from its lifecycle (trackers, timers, connections).
 */
export class PeerMessageHandler {
  readonly #s: SessionContext;
  readonly #writes = new Set<Promise<void>>();

  constructor(session: SessionContext) {
    this.#s = session;
  }

  /** Our first messages: extended handshake, then what we have (BEP 3 bitfield / BEP 6). */
  greet(peer: Peer): void {
    const conn = peer.conn;
    if (conn.remoteExtended) {
      conn.send({
        type: "extended",
        id: EXTENDED_HANDSHAKE_ID,
        payload: encodeExtendedHandshake({
          m: this.#s.extensions.handshakeMap,
          v: CLIENT_VERSION,
          reqq: OUR_REQQ,
          p: this.#s.client.port,
          ...yourIp(conn.hostname),
        }),
      });
    }
    const have = this.#s.picker.have;
    const count = have.count();
    if (conn.remoteFast && count === 0) conn.send({ type: "haveNone" });
    else if (conn.remoteFast && count === have.size) conn.send({ type: "haveAll" });
    else if (count > 0) conn.send({ type: "bitfield", bitfield: have.toBytes() });
  }

  /** Handles one message. Protocol violations close the peer; nothing here throws. */
  handle(peer: Peer, m: Message): void {
    try {
      this.#dispatch(peer, m);
    } catch (e) {
      this.#s.disconnect(peer, `protocol error: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  #dispatch(peer: Peer, m: Message) {
    const s = this.#s;
    const n = s.meta.pieceCount;
    switch (m.type) {
      case "bitfield": {
        // BEP 3 sends a bitfield only first, but some clients send one after `have`s. A peer
        // never loses pieces, so the bits merge: what it announced before still counts.
        const bits = Bitfield.fromWire(m.bitfield, n);
        for (const i of peer.has.indexes()) bits.set(i);
        s.picker.peerGone(peer.has);
        peer.has = bits;
        s.picker.peerBitfield(bits);
        return this.#afterAvailability(peer);
      }
      case "haveAll":
        s.picker.peerGone(peer.has);
        peer.has = Bitfield.full(n);
        s.picker.peerHaveAll();
        return this.#afterAvailability(peer);
      case "haveNone":
        // Nothing to add (and pieces announced earlier are not taken back).
        return;
      case "have":
        if (m.index >= n) throw new Error(`have for piece ${m.index} of ${n}`);
        if (peer.has.set(m.index)) s.picker.peerHas(m.index);
        if (!s.picker.have.has(m.index)) {
          this.#updateInterest(peer, true);
          this.fillRequests(peer);
        }
        if (s.isComplete && peer.isSeed) s.disconnect(peer, "both seeds");
        return;
      case "choke":
        peer.setPeerChoking(true);
        // Without BEP 6 a choke discards our requests; with it the peer rejects them. We
        // re-ask others at once either way, so a block that still arrives is dropped.
        s.picker.release(peer.key);
        peer.requestedAt.clear();
        return;
      case "unchoke":
        peer.setPeerChoking(false);
        return this.fillRequests(peer);
      case "interested":
        peer.peerInterested = true;
        // Rechoke now rather than at the next 10 s tick, so a new leecher starts at once.
        if (peer.amChoking) s.rechoke();
        return;
      case "notInterested":
        peer.peerInterested = false;
        return;
      case "request":
        return this.#onRequest(peer, m);
      case "cancel":
        return peer.cancelUpload(m);
      case "piece":
        return this.#onBlock(peer, m.index, m.begin, m.block);
      case "reject":
        s.picker.rejected(peer.key, m.index, m.begin);
        peer.requestedAt.delete(requestKey(m.index, m.begin));
        // No immediate re-request from this peer: it would likely refuse again, at network
        // speed. Others take the block at once; this peer gets requests at the next tick.
        if (peer.peerChoking) peer.allowedFast.delete(m.index);
        return;
      case "allowedFast":
        if (m.index < n && peer.allowedFast.size < MAX_ALLOWED_FAST) {
          peer.allowedFast.add(m.index);
          this.fillRequests(peer);
        }
        return;
      case "extended":
        if (m.id === EXTENDED_HANDSHAKE_ID) {
          const h = decodeExtendedHandshake(m.payload);
          peer.pipeline.setReqq(h.reqq);
          peer.extensions.update(h);
          for (const handler of this.#s.extensionHandlers.values()) handler.onHandshake?.(peer, h);
        } else {
          // Ids are the ones we chose to receive on; an id we never offered is ignored.
          const name = this.#s.extensions.nameOf(m.id);
          if (name !== undefined) this.#s.extensionHandlers.get(name)?.onMessage(peer, m.payload);
        }
        return;
      default:
        // keep-alive, port (no DHT), suggest, unknown ids: BEP 3 says ignore.
        return;
    }
  }

  #afterAvailability(peer: Peer) {
    const s = this.#s;
    if (s.isComplete && peer.isSeed) return s.disconnect(peer, "both seeds");
    this.#updateInterest(peer);
    this.fillRequests(peer);
  }

  /** Interested exactly when the peer has a piece we lack (and we download at all). */
  #updateInterest(peer: Peer, known?: boolean) {
    const s = this.#s;
    if (s.options.download === false) return;
    if (known !== undefined) return peer.setInterested(known);
    const have = s.picker.have;
    for (const i of peer.has.indexes()) {
      if (!have.has(i)) return peer.setInterested(true);
    }
    peer.setInterested(false);
  }

  #onRequest(peer: Peer, r: { index: number; begin: number; length: number }) {
    const s = this.#s;
    const valid = r.index < s.meta.pieceCount && s.picker.have.has(r.index) && r.length > 0 &&
      r.length <= MAX_REQUEST_LENGTH && r.begin + r.length <= s.storage.layout.pieceSize(r.index);
    if (!valid || peer.amChoking || !peer.queueUpload(r)) {
      // A peer whose answers pile up unread while it keeps asking is flooding us: its
      // rejects would grow our send queue without bound.
      if (peer.conn.bufferedAmount > MAX_SEND_BACKLOG) {
        return s.disconnect(peer, "request flood");
      }
      // BEP 6 peers are told; others (choked, or asking for what we lack) are just ignored.
      if (peer.conn.remoteFast) {
        peer.conn.send({ type: "reject", index: r.index, begin: r.begin, length: r.length });
      }
      return;
    }
    const limiter = s.uploadLimiter;
    peer.serveUploads(
      // Unlimited: a synchronous read from the window cache when possible (no promise per
      // block). Limited: the read waits for tokens, so it takes a copy.
      (b) =>
        limiter
          ? limiter.take(b.length, s.signal).then(() =>
            s.storage.readBlock(b.index, b.begin, b.length)
          )
          : s.storage.readBlockNow(b.index, b.begin, b.length) ??
            s.storage.readBlock(b.index, b.begin, b.length),
      (bytes) => {
        s.uploaded += bytes;
        peer.up.add(bytes);
        s.upRate.add(bytes);
      },
    ).catch((e) => s.disconnect(peer, `upload failed: ${e instanceof Error ? e.message : e}`));
  }

  /** Tops up the peer's request pipeline from the picker. */
  fillRequests(peer: Peer): void {
    const s = this.#s;
    if (!peer.amInterested || peer.conn.closed || s.isComplete) return;
    // BEP 6: while choked we may still ask for the pieces the peer allowed us.
    const has = peer.peerChoking ? allowedFastBits(peer, s.meta.pieceCount) : peer.has;
    if (!has) return;
    const want = requestBatch(peer.snubbed ? 1 : peer.pipeline.size, s.picker.inflight(peer.key));
    if (want === 0) return;
    const now = performance.now();
    const picked = s.picker.pick({ key: peer.key, has, count: want, now });
    for (const r of picked) {
      peer.requestedAt.set(requestKey(r.index, r.begin), now);
      peer.conn.sendRequest(r.index, r.begin, r.length);
    }
  }

  #onBlock(peer: Peer, index: number, begin: number, block: Uint8Array) {
    const s = this.#s;
    // The read that brought the block stamps it: a clock read is an op call, ~65,000 per GiB.
    const now = peer.conn.lastReadAt;
    const key = requestKey(index, begin);
    const sentAt = peer.requestedAt.get(key);
    peer.down.add(block.length, now);
    s.downRate.add(block.length, now);
    s.downloaded += block.length;
    // Only blocks we asked this peer for (and still want from it) are used: otherwise any peer
    // could slip garbage into pieces others are filling and get them banned for the hash.
    if (sentAt === undefined) return;
    peer.requestedAt.delete(key);
    peer.minLatencyMs = Math.min(peer.minLatencyMs, Math.max(1, now - sentAt));
    peer.lastBlockAt = now;
    peer.pipeline.onBlock(now, peer.down, peer.minLatencyMs);
    peer.snubbed = false;
    const result = s.picker.received(peer.key, index, begin, block.length, block, now);
    for (const c of result.cancel) {
      const other = s.peers.get(c.peerKey);
      other?.requestedAt.delete(requestKey(c.index, c.begin));
      other?.conn.send({ type: "cancel", index: c.index, begin: c.begin, length: c.length });
    }
    if (result.complete) this.#onPiece(index, result.complete);
    this.fillRequests(peer);
  }

  /** Verifies an assembled piece; a good one is written, then announced with `have`. */
  #onPiece(index: number, data: Uint8Array) {
    const s = this.#s;
    if (!s.storage.verify(index, data)) {
      const contributors = s.picker.failed(index);
      s.emit({ type: "warning", message: `piece ${index} failed its hash check` });
      // Only a peer that sent the whole piece is surely at fault. With several senders an
      // honest one would share a liar's strikes and be banned too (a stalled download); the
      // piece is fetched again, normally whole from one peer, which then takes the blame.
      for (const key of contributors.length === 1 ? contributors : []) {
        const p = s.peers.get(key);
        if (p && ++p.strikes >= MAX_STRIKES) s.disconnect(p, "sent corrupt data", true);
      }
      for (const p of s.peers.values()) this.fillRequests(p);
      return;
    }
    const write = s.storage.writePiece(index, data).then(() => {
      s.picker.verified(index);
      for (const p of s.peers.values()) {
        if (!p.has.has(index)) p.conn.send({ type: "have", index });
        else if (p.amInterested) this.#updateInterest(p);
      }
      s.onPieceDone();
      // The piece's memory is free again: peers held back by the cap can take new blocks.
      for (const p of s.peers.values()) this.fillRequests(p);
    }, (e) => s.fail(e));
    this.#writes.add(write);
    write.finally(() => this.#writes.delete(write));
  }

  /** Resolves when every started piece write has finished. */
  async idle(): Promise<void> {
    while (this.#writes.size > 0) await Promise.allSettled([...this.#writes]);
  }
}

/** BEP 10 `yourip` for an IPv4 peer (4 bytes), so it can learn its public address. */
function yourIp(hostname: string): { yourip?: Uint8Array } {
  const v4 = /^(?:::ffff:)?(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/i.exec(hostname);
  if (!v4) return {};
  const bytes = v4.slice(1).map(Number);
  return bytes.every((b) => b <= 255) ? { yourip: Uint8Array.from(bytes) } : {};
}

/** The pieces a choking peer both has and allows us to request (BEP 6), if any. */
function allowedFastBits(peer: Peer, pieceCount: number): Bitfield | undefined {
  let bits: Bitfield | undefined;
  for (const i of peer.allowedFast) {
    if (peer.has.has(i)) (bits ??= new Bitfield(pieceCount)).set(i);
  }
  return bits;
}
