import type { Metainfo } from "../../torrent/mod.ts";
import { equals } from "../../util/bytes.ts";
import { BtxError } from "../../util/errors.ts";
import { ExtensionRegistry, type PeerConnection } from "../../wire/mod.ts";
import { Announcer } from "../../tracker/client/announce.ts";
import { Choker } from "../peers/choker.ts";
import type { PeerHost } from "../peers/host.ts";
import { type PeerAddress, PeerDialer } from "../peers/dialer.ts";
import { type PeerSource, PeerSources } from "../peers/sources.ts";
import { Peer, requestKey } from "../peers/peer.ts";
import { PeerMessageHandler } from "./messages.ts";
import type {
  ExtensionHandler,
  SessionContext,
  SessionEvent,
  SessionOptions,
  SessionState,
  SessionStats,
} from "./types.ts";
import { PiecePicker } from "../picker/picker.ts";
import { RateMeter } from "../../util/rate.ts";
import { Storage } from "../storage/storage.ts";
import { TokenBucket } from "../peers/throttle.ts";
import type { Bitfield } from "../../torrent/bitfield.ts";

export type { PeerAddress } from "../peers/dialer.ts";
export {
  MAX_STRIKES,
  type SessionEvent,
  type SessionOptions,
  type SessionState,
  type SessionStats,
} from "./types.ts";

/** `start` was cancelled through `signal` while checking data; exit code 130 like Ctrl-C. */
export class CheckStoppedError extends BtxError {
  override name = "CheckStoppedError";
  override readonly exitCode: number = 130;
  constructor(name: string) {
    super(`stopped while checking the data of ${name}`);
  }
}

const TICK_MS = 1000;
const REQUEST_TIMEOUT_MS = 60_000;
const RESUME_SAVE_MS = 30_000;
const RESUME_FAILED = "saving resume data failed (the next start re-checks the data)";
const DEFAULT_MAX_PEERS = 50;
/** A peer that keeps us choked this long while we want its pieces may lose its slot. */
const CHOKED_TOO_LONG_MS = 120_000;

/**
 * One torrent being downloaded and/or seeded: storage, the piece picker, the peers, the
 * trackers and the choker. Create with `TorrentSession.start`.
 */
export class TorrentSession implements SessionContext {
  readonly meta: Metainfo;
  readonly infoHashHex: string;
  readonly peers = new Map<string, Peer>();
  readonly downRate = new RateMeter();
  readonly upRate = new RateMeter();
  /** Resolves once every piece is verified (at once for complete data). */
  readonly complete: Promise<void>;
  /** Resolves (never rejects) with the error that stopped the session, if any. */
  readonly failed: Promise<Error>;
  readonly storage: Storage;
  readonly picker: PiecePicker;
  readonly client: PeerHost;
  readonly options: SessionOptions;
  /** Paces block uploads when `maxUploadRate` is set. */
  readonly uploadLimiter: TokenBucket | undefined;
  /**
   * The BEP 10 extensions this session speaks, by name. None yet beyond the handshake itself;
   * metadata exchange and peer exchange register here.
   */
  readonly extensionHandlers = new Map<string, ExtensionHandler>();
  readonly extensions: ExtensionRegistry;
  state: SessionState = "checking";
  downloaded = 0;
  uploaded = 0;
  readonly #dialer: PeerDialer;
  readonly #sources: PeerSources;
  readonly #choker: Choker;
  readonly #messages: PeerMessageHandler;
  #announcer: Announcer | undefined;
  readonly #abort = new AbortController();
  #timer: ReturnType<typeof setInterval> | undefined;
  #lastResumeSave = 0;
  #resolveComplete!: () => void;
  #resolveFailed!: (e: Error) => void;
  #stopping: Promise<void> | undefined;

  private constructor(
    client: PeerHost,
    meta: Metainfo,
    storage: Storage,
    have: Bitfield,
    o: SessionOptions,
  ) {
    this.client = client;
    this.meta = meta;
    this.infoHashHex = meta.infoHashHex;
    this.storage = storage;
    this.options = o;
    this.extensions = new ExtensionRegistry([...this.extensionHandlers.keys()]);
    this.picker = new PiecePicker({
      layout: storage.layout,
      have,
      ...(o.maxUnverifiedBytes === undefined ? {} : { maxUnverifiedBytes: o.maxUnverifiedBytes }),
    });
    this.#choker = new Choker(o.uploadSlots === undefined ? {} : { slots: o.uploadSlots });
    this.uploadLimiter = o.maxUploadRate === undefined
      ? undefined
      : new TokenBucket(o.maxUploadRate);
    this.#messages = new PeerMessageHandler(this);
    this.#sources = new PeerSources({ accept: (addresses) => this.#dialer.add(addresses) });
    this.#dialer = new PeerDialer({
      infoHash: meta.infoHash,
      peerId: client.peerId,
      signal: this.#abort.signal,
      maxPeers: o.maxPeers ?? DEFAULT_MAX_PEERS,
      connectedCount: () => this.peers.size,
      isConnected: (key) => this.peers.has(key),
      onConnection: (conn) => this.addConnection(conn),
    });
    this.complete = new Promise((r) => (this.#resolveComplete = r));
    this.failed = new Promise((r) => (this.#resolveFailed = r));
  }

  /**
   * Opens the storage, checks the data already there (fast with a matching resume file),
   * then joins the swarm: listens through `client`, announces, dials peers.
   * @throws {StorageError} when the data cannot be opened or read.
   */
  static async start(
    client: PeerHost,
    meta: Metainfo,
    options: SessionOptions,
  ): Promise<TorrentSession> {
    const emit = options.onEvent ?? (() => {});
    const storage = await Storage.open(meta, options.dir, { create: !options.existingData });
    let have: Bitfield;
    try {
      // Checking a big torrent takes a while: a stop request ends it between two pieces.
      have = await storage.check((checked, total) => {
        if (options.signal?.aborted) throw new CheckStoppedError(meta.name);
        emit({ type: "checking", checked, total });
      });
    } catch (e) {
      await storage.close();
      throw e;
    }
    const session = new TorrentSession(client, meta, storage, have, options);
    session.#begin();
    return session;
  }

  /** Aborts when the session stops: for waits that must not outlive it. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  get isComplete(): boolean {
    return this.picker.have.isComplete();
  }

  /** Bytes of verified pieces. */
  get haveBytes(): number {
    const layout = this.storage.layout;
    let n = this.picker.have.count() * layout.pieceLength;
    const last = layout.pieceCount - 1;
    if (last >= 0 && this.picker.have.has(last)) n -= layout.pieceLength - layout.pieceSize(last);
    return n;
  }

  stats(): SessionStats {
    let seeds = 0;
    for (const p of this.peers.values()) if (p.isSeed) seeds++;
    return {
      state: this.state,
      total: this.meta.length,
      have: this.haveBytes,
      piecesHave: this.picker.have.count(),
      pieceCount: this.meta.pieceCount,
      downloaded: this.downloaded,
      uploaded: this.uploaded,
      downRate: this.downRate.rate(),
      upRate: this.upRate.rate(),
      peers: this.peers.size,
      seeds,
    };
  }

  emit(event: SessionEvent): void {
    try {
      this.options.onEvent?.(event);
    } catch {
      // A display error must not break the transfer.
    }
  }

  #begin() {
    this.state = this.isComplete ? "seeding" : "downloading";
    if (this.isComplete) this.#resolveComplete();
    this.client.register(this);
    const tiers = this.options.trackers ?? this.meta.announceList;
    if (tiers.some((t) => t.length > 0)) {
      this.#announcer = new Announcer(tiers, {
        infoHash: this.meta.infoHash,
        peerId: this.client.peerId,
        port: this.client.port,
        ...(this.client.listenAddress === undefined ? {} : { ip: this.client.listenAddress }),
        stats: () => ({
          uploaded: this.uploaded,
          downloaded: this.downloaded,
          left: this.meta.length - this.haveBytes,
        }),
        onPeers: (peers) => this.addPeers(peers, "tracker"),
        onError: (e) => this.emit({ type: "warning", message: e.message }),
      });
      this.#announcer.start().catch((e) => this.emit({ type: "warning", message: String(e) }));
    }
    this.addPeers(this.options.peers ?? []);
    this.#timer = setInterval(() => this.#tick(), TICK_MS);
  }

  /** Offers dialable addresses from `source` (default: the user's own). */
  addPeers(addresses: readonly PeerAddress[], source: PeerSource = "user"): void {
    if (this.#sources.add(source, addresses) > 0) this.#connectMore();
  }

  #connectMore() {
    if (!this.#stopping) this.#dialer.dialMore();
  }

  /** Takes over an established connection (dialled by us or accepted by the client). */
  addConnection(conn: PeerConnection): void {
    const key = `${conn.hostname}:${conn.port}`;
    // Incoming peers get a few slots beyond our own dialling cap.
    const max = (this.options.maxPeers ?? DEFAULT_MAX_PEERS) + 10;
    const id = conn.remotePeerId;
    const duplicate = [...this.peers.values()].some((p) => equals(p.conn.remotePeerId, id));
    if (
      this.#stopping || this.peers.has(key) || duplicate || this.peers.size >= max ||
      this.#dialer.isBanned(key)
    ) {
      conn.close();
      return;
    }
    const peer = new Peer(conn, this.meta.pieceCount, performance.now());
    this.peers.set(key, peer);
    this.emit({ type: "peer", peer: key, connected: true });
    this.#messages.greet(peer);
    conn.run((m) => this.#messages.handle(peer, m)).then(() => this.#dropPeer(peer));
  }

  /** Closes a peer's connection; `ban` also refuses it for the rest of the session. */
  disconnect(peer: Peer, reason: string, ban = false): void {
    if (ban) this.#dialer.ban(peer.conn);
    peer.closeReason ??= reason;
    peer.conn.close();
  }

  #dropPeer(peer: Peer) {
    if (this.peers.get(peer.key) !== peer) return;
    this.peers.delete(peer.key);
    this.picker.release(peer.key);
    this.picker.peerGone(peer.has);
    peer.requestedAt.clear();
    const reason = peer.closeReason ?? peer.conn.closeError?.message;
    this.emit({ type: "peer", peer: peer.key, connected: false, ...(reason ? { reason } : {}) });
    // Others may now take the blocks this peer had.
    for (const p of this.peers.values()) this.#messages.fillRequests(p);
    this.#connectMore();
  }

  /**
   * Reports a failure that costs nothing verified: a resume save (the next run re-checks the
   * data instead) or an announce (the tracker forgets us after its interval).
   */
  #warn(what: string, e: unknown) {
    this.emit({ type: "warning", message: `${what}: ${e instanceof Error ? e.message : e}` });
  }

  /** Called by the message handler once a piece is verified and written. */
  onPieceDone(): void {
    if (!this.isComplete || this.state === "seeding") return;
    this.state = "seeding";
    this.#announcer?.completed().catch((e) => this.#warn("announcing completed failed", e));
    this.storage.saveResume(this.picker.have).catch((e) => this.#warn(RESUME_FAILED, e));
    this.emit({ type: "complete", stats: this.stats() });
    this.#resolveComplete();
    for (const p of this.peers.values()) {
      p.setInterested(false);
      if (p.isSeed) this.disconnect(p, "both seeds");
    }
    if (!this.options.seed) void this.stop();
  }

  /** A fatal error (disk full, unwritable folder): stop and report it once. */
  fail(error: unknown): void {
    const e = error instanceof Error ? error : new BtxError(String(error));
    this.#resolveFailed(e);
    void this.stop();
  }

  #tick() {
    const now = performance.now();
    const { expired, snubbed } = this.picker.timeouts(now, REQUEST_TIMEOUT_MS);
    for (const r of expired) {
      const p = this.peers.get(r.peerKey);
      p?.requestedAt.delete(requestKey(r.index, r.begin));
      p?.conn.send({ type: "cancel", index: r.index, begin: r.begin, length: r.length });
    }
    for (const key of snubbed) {
      const p = this.peers.get(key);
      if (p) p.snubbed = true;
    }
    for (const p of this.peers.values()) {
      p.pipeline.update(p.down.rate(), p.minLatencyMs === Infinity ? 0 : p.minLatencyMs);
      this.#messages.fillRequests(p);
    }
    this.#dropChokingPeer(now);
    if (this.#choker.due(now)) this.rechoke(now);
    if (now - this.#lastResumeSave > RESUME_SAVE_MS && this.state === "downloading") {
      this.#lastResumeSave = now;
      this.storage.saveResume(this.picker.have).catch((e) => this.#warn(RESUME_FAILED, e));
    }
    this.#connectMore();
    this.emit({ type: "progress", stats: this.stats() });
  }

  /**
   * With every slot taken and other addresses waiting, a peer that has kept us choked for long
   * (it may never unchoke us) makes room for one that might. One per tick.
   */
  #dropChokingPeer(now: number) {
    const max = this.options.maxPeers ?? DEFAULT_MAX_PEERS;
    if (this.state !== "downloading" || this.peers.size < max) return;
    if (!this.#dialer.hasCandidates(now)) return;
    for (const p of this.peers.values()) {
      if (p.waitingSince !== undefined && now - p.waitingSince > CHOKED_TOO_LONG_MS) {
        return this.disconnect(p, "kept us choked");
      }
    }
  }

  /** Recomputes which peers we upload to (choker), and sends the changes. */
  rechoke(now = performance.now()): void {
    const list = [...this.peers.values()].map((p) => ({
      key: p.key,
      interested: p.peerInterested,
      downloadRate: p.down.rate(),
      uploadRate: p.up.rate(),
    }));
    const unchoke = this.#choker.rechoke(list, this.isComplete, now);
    for (const p of this.peers.values()) p.setChoking(!unchoke.has(p.key));
  }

  /** Announces `stopped`, closes every peer, saves resume data, closes files. Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop() {
    clearInterval(this.#timer);
    this.client.unregister(this);
    this.#abort.abort();
    for (const p of this.peers.values()) this.disconnect(p, "stopping");
    const announced = this.#announcer?.stop().catch((e) =>
      this.#warn("announcing stopped failed", e)
    );
    await this.#dialer.idle();
    await this.#messages.idle();
    await this.storage.saveResume(this.picker.have).catch((e) => this.#warn(RESUME_FAILED, e));
    await this.storage.close();
    await announced;
    this.state = "stopped";
  }
}
