import { equals } from "../util/bytes.ts";
import { WireError } from "./errors.ts";
import { FrameParser } from "./frame.ts";
import {
  decodeHandshake,
  encodeHandshake,
  HANDSHAKE_LENGTH,
  HANDSHAKE_START_LENGTH,
  type HandshakeStart,
} from "./handshake.ts";
import {
  encodeMessage,
  encodePieceHeaderInto,
  encodeRequestInto,
  type Message,
  REQUEST_LENGTH,
} from "./messages.ts";
import {
  closeQuietly,
  formatPeer,
  type HandshakeTimeoutOptions,
  readExact,
  readHandshakeStart,
  remoteOf,
  type WireConn,
  withDeadline,
  writeAll,
} from "./socket.ts";
import { WRITE_CHUNK, WriteQueue } from "./write_queue.ts";

/**
 * BEP 3 says peers drop links silent for two minutes, and libtorrent does exactly that (its
 * `peer_timeout`, 120 s), so a keep-alive sent only at 120 s arrives too late: send one after
 * 60 s of outgoing silence, as libtorrent itself does.
 */
export const DEFAULT_KEEPALIVE_MS = 60_000;
/** No incoming bytes (not even a keep-alive) for this long closes the connection. */
export const DEFAULT_IDLE_TIMEOUT_MS = 180_000;

const READ_SIZE = 64 * 1024;

/** Timers and limits of an established connection. */
export interface PeerConnectionOptions {
  /** Send a keep-alive after this long without outgoing traffic. */
  keepAliveMs?: number;
  /** Close after this long without incoming traffic. */
  idleTimeoutMs?: number;
  /** Largest accepted frame; see `FrameParserOptions.maxFrame`. */
  maxFrame?: number;
  /**
   * Piece blocks given to `run`'s `onMessage` are views of the read buffer, valid only
   * during that call (no allocation and copy per block): for consumers that copy them.
   */
  borrowBlocks?: boolean;
}

/** What we put in our own handshake. */
interface OurHandshake {
  peerId: Uint8Array;
  /** Advertise BEP 10. */
  extended?: boolean;
  /** Advertise BEP 6. */
  fast?: boolean;
}

/** Options of {@link PeerConnection.connect}. */
export interface ConnectOptions
  extends OurHandshake, HandshakeTimeoutOptions, PeerConnectionOptions {
  hostname: string;
  port: number;
  infoHash: Uint8Array;
}

/** Options of {@link PeerConnection.answer}. */
export interface AnswerOptions
  extends OurHandshake, HandshakeTimeoutOptions, PeerConnectionOptions {}

/** Options of {@link PeerConnection.accept}. */
export interface AcceptOptions extends AnswerOptions {
  /** True when we serve this info hash; otherwise the connection is refused. */
  lookup: (infoHash: Uint8Array) => boolean;
}

interface RemoteInfo {
  infoHash: Uint8Array;
  peerId: Uint8Array;
  reserved: Uint8Array;
  extended: boolean;
  fast: boolean;
  hostname: string;
  port: number;
}

/**
 * An established peer wire connection (handshake done). Outgoing messages are queued and
 * coalesced into few writes; incoming ones are delivered by {@link PeerConnection.run}.
 */
export class PeerConnection {
  readonly infoHash: Uint8Array;
  readonly remotePeerId: Uint8Array;
  /** The peer's 8 reserved handshake bytes. */
  readonly remoteReserved: Uint8Array;
  readonly remoteExtended: boolean;
  readonly remoteFast: boolean;
  readonly hostname: string;
  readonly port: number;
  /** Every byte read after the handshake. */
  bytesIn = 0;
  /** Every byte written after the handshake. */
  bytesOut = 0;
  /** Block bytes of piece messages received. */
  pieceBytesIn = 0;
  /** Block bytes of piece messages written. */
  pieceBytesOut = 0;
  /** Why the connection ended, when it was not a clean EOF or `close()`. */
  closeError: Error | undefined;

  #conn: WireConn;
  #parser: FrameParser;
  #keepAliveMs: number;
  #idleTimeoutMs: number;
  #closed = false;
  #running = false;
  readonly #queue = new WriteQueue();
  /** Small messages are encoded here, then copied into the queue. */
  readonly #scratch = new Uint8Array(REQUEST_LENGTH);
  /** Bytes of the chunk being written (taken off the queue, still unsent). */
  #inFlight = 0;
  #writing = false;
  #drainWaiters: { threshold: number; resolve: () => void }[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #lastIn = performance.now();
  #lastOut = performance.now();

  private constructor(conn: WireConn, remote: RemoteInfo, options: PeerConnectionOptions) {
    this.#conn = conn;
    this.infoHash = remote.infoHash;
    this.remotePeerId = remote.peerId;
    this.remoteReserved = remote.reserved;
    this.remoteExtended = remote.extended;
    this.remoteFast = remote.fast;
    this.hostname = remote.hostname;
    this.port = remote.port;
    this.#keepAliveMs = options.keepAliveMs ?? DEFAULT_KEEPALIVE_MS;
    this.#idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    this.#parser = new FrameParser({
      ...(options.maxFrame === undefined ? {} : { maxFrame: options.maxFrame }),
      borrowBlocks: options.borrowBlocks ?? false,
    });
    // We coalesce writes ourselves; Nagle would only add latency to requests.
    (conn as Partial<Deno.TcpConn>).setNoDelay?.(true);
  }

  /**
   * Opens a TCP connection, sends our handshake, reads the peer's and checks its info hash.
   * @throws {WireError} on connect failure, timeout, abort, a bad handshake, another info
   * hash, or a connection to ourselves.
   */
  static connect(options: ConnectOptions): Promise<PeerConnection> {
    const peer = formatPeer(options.hostname, options.port);
    const holder: { conn?: Deno.TcpConn; close(): void } = {
      close() {
        this.conn?.close();
      },
    };
    return withDeadline(holder, peer, options, async (stopSignal) => {
      const conn = await Deno.connect({
        hostname: options.hostname,
        port: options.port,
        transport: "tcp",
        signal: stopSignal,
      });
      holder.conn = conn;
      if (stopSignal.aborted) throw new WireError("stopped", peer);
      await writeAll(conn, encodeHandshake({ ...options }));
      const theirs = decodeHandshake(await readExact(conn, HANDSHAKE_LENGTH, peer));
      if (!equals(theirs.infoHash, options.infoHash)) {
        throw new WireError("peer answered with a different info hash", peer);
      }
      checkNotSelf(theirs.peerId, options.peerId, peer);
      return new PeerConnection(conn, {
        ...theirs,
        hostname: options.hostname,
        port: options.port,
      }, options);
    });
  }

  /**
   * Handles an incoming connection for one set of torrents: reads the peer's handshake,
   * refuses (closes) unknown info hashes, then answers. Closes `conn` on any failure.
   * @throws {WireError}
   */
  static async accept(conn: WireConn, options: AcceptOptions): Promise<PeerConnection> {
    const start = await readHandshakeStart(conn, options);
    if (!options.lookup(start.infoHash)) {
      closeQuietly(conn);
      const { hostname, port } = remoteOf(conn);
      throw new WireError("handshake for an info hash we do not serve", formatPeer(hostname, port));
    }
    return PeerConnection.answer(conn, start, options);
  }

  /**
   * Finishes an incoming handshake whose first part was read by `readHandshakeStart`: sends
   * our handshake for `start.infoHash` and reads the peer id. Closes `conn` on failure.
   * @throws {WireError}
   */
  static answer(
    conn: WireConn,
    start: HandshakeStart,
    options: AnswerOptions,
  ): Promise<PeerConnection> {
    const { hostname, port } = remoteOf(conn);
    const peer = formatPeer(hostname, port);
    return withDeadline(conn, peer, options, async () => {
      await writeAll(conn, encodeHandshake({ ...options, infoHash: start.infoHash }));
      const peerId = await readExact(conn, HANDSHAKE_LENGTH - HANDSHAKE_START_LENGTH, peer);
      checkNotSelf(peerId, options.peerId, peer);
      return new PeerConnection(conn, { ...start, peerId, hostname, port }, options);
    });
  }

  /** True once the connection has ended; sends are then dropped. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * When the last socket read returned (performance.now() ms): the arrival time of every
   * message `run` delivers from it, for consumers that would otherwise read the clock (an op
   * call) once per message.
   */
  get lastReadAt(): number {
    return this.#lastIn;
  }

  /** Bytes queued but not yet handed to the OS. */
  get bufferedAmount(): number {
    return this.#queue.size + this.#inFlight;
  }

  /** "host:port" of the peer. */
  get peer(): string {
    return formatPeer(this.hostname, this.port);
  }

  /**
   * Queues a message. Messages sent in the same tick go out in one write.
   * @returns false if the connection is closed (the message is dropped).
   */
  send(m: Message): boolean {
    if (m.type === "piece") return this.sendPiece(m.index, m.begin, m.block);
    return this.#enqueue(encodeMessage(m), false);
  }

  /**
   * Queues a `request` (the same as `send({ type: "request", ... })`), encoded into a reused
   * buffer: a downloader sends one per block, so no object or array is allocated for it.
   * @returns false if the connection is closed.
   */
  sendRequest(index: number, begin: number, length: number): boolean {
    if (this.#closed) return false;
    return this.#enqueue(encodeRequestInto(this.#scratch, index, begin, length), false);
  }

  /**
   * Queues a piece message without first building a frame around the block. The block is
   * copied into the send queue at once: the caller may reuse it as soon as this returns.
   * @returns false if the connection is closed.
   */
  sendPiece(index: number, begin: number, block: Uint8Array): boolean {
    if (this.#closed) return false;
    this.#enqueue(encodePieceHeaderInto(this.#scratch, index, begin, block.length), false);
    return this.#enqueue(block, true);
  }

  /**
   * Resolves once at most `threshold` bytes are still queued (default: all written), or the
   * connection closed. Callers that queue a lot await this for backpressure.
   */
  drain(threshold = 0): Promise<void> {
    if (this.#closed || this.bufferedAmount <= threshold) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push({ threshold, resolve }));
  }

  /**
   * Reads messages until the connection ends, calling `onMessage` synchronously for each, in
   * order (with `borrowBlocks`, a piece block is valid only during that call). Resolves on EOF, error or `close()`, never rejects; `closeError` says what went
   * wrong, if anything (a protocol error, a read error, or an exception from `onMessage`,
   * which also closes the connection). Call it once.
   */
  async run(onMessage: (m: Message) => void): Promise<void> {
    if (this.#running || this.#closed) return;
    this.#running = true;
    this.#lastIn = performance.now();
    this.#armTimer();
    const buf = new Uint8Array(READ_SIZE);
    try {
      while (!this.#closed) {
        const n = await this.#conn.read(buf);
        if (n === null) break;
        this.bytesIn += n;
        this.#lastIn = performance.now();
        this.#parser.push(buf.subarray(0, n));
        for (let m = this.#parser.next(); m !== undefined; m = this.#parser.next()) {
          if (m.type === "piece") this.pieceBytesIn += m.block.length;
          onMessage(m);
          if (this.#closed) break;
        }
      }
      this.close();
    } catch (e) {
      this.#fail(e);
    }
  }

  /** Closes the connection, drops queued writes and stops the timers. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    closeQuietly(this.#conn);
    this.#queue.clear();
    this.#inFlight = 0;
    for (const waiter of this.#drainWaiters.splice(0)) waiter.resolve();
  }

  #fail(e: unknown) {
    // Errors after close() are just the pending read or write being cancelled.
    if (this.#closed) return;
    if (e instanceof WireError && e.peer === undefined) e = new WireError(e.reason, this.peer);
    this.closeError = e instanceof Error ? e : new Error(String(e));
    this.close();
  }

  #enqueue(bytes: Uint8Array, block: boolean): boolean {
    if (this.#closed) return false;
    this.#queue.push(bytes, block);
    this.#lastOut = performance.now();
    if (!this.#writing) {
      this.#writing = true;
      // Start after the current task so everything it sends shares a write.
      queueMicrotask(() => this.#flush());
    }
    return true;
  }

  async #flush(): Promise<void> {
    try {
      while (this.#queue.size > 0 && !this.#closed) {
        // An uploader queues blocks from promise callbacks (reads served from memory): a few
        // microtask turns let it queue a batch's worth, so the peer gets 128 KiB writes, not
        // one 16 KiB write (and one wake-up on its side) per block. No timer, no added latency
        // beyond this task.
        for (
          let i = 0;
          i < 64 && this.#queue.pieceBytes > 0 && this.#queue.size < WRITE_CHUNK;
          i++
        ) {
          await null;
        }
        if (this.#closed) return;
        const chunk = this.#queue.take()!;
        this.#inFlight = chunk.length;
        await writeAll(this.#conn, chunk.buf.subarray(0, chunk.length));
        if (this.#closed) return;
        this.#inFlight = 0;
        this.#queue.recycle(chunk);
        this.bytesOut += chunk.length;
        this.pieceBytesOut += chunk.pieceBytes;
        this.#wakeDrainWaiters();
      }
    } catch (e) {
      this.#fail(e);
    } finally {
      this.#writing = false;
    }
  }

  #wakeDrainWaiters() {
    if (this.#drainWaiters.length === 0) return;
    const waiting = [];
    for (const waiter of this.#drainWaiters) {
      if (this.bufferedAmount <= waiter.threshold) waiter.resolve();
      else waiting.push(waiter);
    }
    this.#drainWaiters = waiting;
  }

  /** One timer serves both the keep-alive and the idle timeout; it re-arms for the nearer. */
  #armTimer() {
    if (this.#closed) return;
    const now = performance.now();
    const delay = Math.min(
      this.#lastIn + this.#idleTimeoutMs,
      this.#lastOut + this.#keepAliveMs,
    ) - now;
    this.#timer = setTimeout(() => this.#onTimer(), Math.max(1, Math.ceil(delay)));
  }

  #onTimer() {
    this.#timer = undefined;
    if (this.#closed) return;
    const now = performance.now();
    if (now - this.#lastIn >= this.#idleTimeoutMs) {
      this.#fail(new WireError(`no data for ${this.#idleTimeoutMs} ms`, this.peer));
      return;
    }
    if (now - this.#lastOut >= this.#keepAliveMs) this.send({ type: "keepalive" });
    this.#armTimer();
  }
}

function checkNotSelf(theirs: Uint8Array, ours: Uint8Array, peer: string) {
  if (equals(theirs, ours)) throw new WireError("connected to ourselves", peer);
}
