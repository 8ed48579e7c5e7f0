import type { Metainfo } from "../../src/torrent/mod.ts";
import {
  decodeHandshake,
  encodeHandshake,
  encodeMessage,
  FrameParser,
  HANDSHAKE_LENGTH,
  type Message,
} from "../../src/wire/mod.ts";

/** What a script can do on one connection, after the handshakes were exchanged. */
export interface PeerScript {
  meta: Metainfo;
  /** Whether the other side set the BEP 6 bit (we always do when `fast` is on). */
  remoteFast: boolean;
  send(m: Message): Promise<void>;
  /** Writes bytes as they are: broken frames, lies, single bytes. */
  sendRaw(bytes: Uint8Array): Promise<void>;
  /** The next message from the other side, or undefined once the connection ended. */
  next(): Promise<Message | undefined>;
  /** Resolves when the other side closed the connection (or the peer was closed). */
  readonly ended: Promise<void>;
  /** True once the connection ended. */
  readonly closed: boolean;
  /** Resolves after `ms`, or early when the connection ends or the peer is closed. */
  sleep(ms: number): Promise<void>;
}

export type Script = (peer: PeerScript) => Promise<void>;

export interface ScriptedPeerOptions {
  /** Advertise BEP 6 in the handshake. Default true. */
  fast?: boolean;
  /** Read nothing after the handshake (so the other side's sends back up). Default false. */
  neverRead?: boolean;
}

/**
 * A peer for tests that speaks the wire protocol exactly as a script says: built on raw
 * sockets and the wire codecs only, so it can lie, break frames and misbehave in ways
 * `PeerConnection` never would. Listens on 127.0.0.1 (for a session to dial) or dials one.
 */
export class ScriptedPeer {
  /** Connections whose handshake completed. */
  handshakes = 0;
  /** Errors scripts threw other than the connection going away. */
  readonly errors: unknown[] = [];
  readonly #listener: Deno.TcpListener | undefined;
  readonly #conns = new Set<Deno.TcpConn>();
  readonly #tasks = new Set<Promise<void>>();
  readonly #abort = new AbortController();
  readonly #accepting: Promise<void>;

  private constructor(
    readonly meta: Metainfo,
    readonly script: Script,
    readonly options: ScriptedPeerOptions,
    listener?: Deno.TcpListener,
  ) {
    this.#listener = listener;
    this.#accepting = listener ? this.#acceptLoop(listener) : Promise.resolve();
  }

  /** Listens on 127.0.0.1 at a free port; every accepted connection runs `script`. */
  static listen(meta: Metainfo, script: Script, options: ScriptedPeerOptions = {}): ScriptedPeer {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0, transport: "tcp" });
    return new ScriptedPeer(meta, script, options, listener);
  }

  /** Dials `port` on 127.0.0.1 and runs `script` on that connection. */
  static dial(
    meta: Metainfo,
    port: number,
    script: Script,
    options: ScriptedPeerOptions = {},
  ): ScriptedPeer {
    const peer = new ScriptedPeer(meta, script, options);
    peer.#track(
      Deno.connect({ hostname: "127.0.0.1", port, transport: "tcp" }).then((c) => peer.#run(c)),
    );
    return peer;
  }

  /** The address a session can dial. */
  get address(): { hostname: string; port: number } {
    const addr = this.#listener!.addr as Deno.NetAddr;
    return { hostname: addr.hostname, port: addr.port };
  }

  /** Waits until every script finished (connections end when their script returns). */
  async done(): Promise<void> {
    while (this.#tasks.size > 0) await Promise.allSettled([...this.#tasks]);
  }

  /** Stops listening, closes every connection and waits for the scripts. */
  async close(): Promise<void> {
    this.#abort.abort();
    try {
      this.#listener?.close();
    } catch { /* closed */ }
    for (const c of this.#conns) closeQuietly(c);
    await this.#accepting;
    await this.done();
  }

  #track(p: Promise<void>) {
    const task = p.catch((e) => {
      if (!isDisconnect(e)) this.errors.push(e);
    });
    this.#tasks.add(task);
    task.finally(() => this.#tasks.delete(task));
  }

  async #acceptLoop(listener: Deno.TcpListener) {
    for (;;) {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept();
      } catch {
        return; // closed
      }
      this.#track(this.#run(conn));
    }
  }

  async #run(conn: Deno.TcpConn) {
    this.#conns.add(conn);
    const stop = this.#abort.signal;
    let closed = false;
    let endConn!: () => void;
    const ended = new Promise<void>((r) => (endConn = r));
    const finish = () => {
      if (closed) return;
      closed = true;
      endConn();
    };
    stop.addEventListener("abort", finish, { once: true });
    try {
      const fast = this.options.fast ?? true;
      const peerId = new TextEncoder().encode("-XX0001-hostile-peer");
      await writeAll(conn, encodeHandshake({ infoHash: this.meta.infoHash, peerId, fast }));
      const theirs = decodeHandshake(await readExact(conn, HANDSHAKE_LENGTH));
      this.handshakes++;
      const parser = new FrameParser({ maxFrame: 1 << 24 });
      const waiting: ((m: Message | undefined) => void)[] = [];
      const inbox: Message[] = [];
      const deliver = (m: Message | undefined) => {
        const w = waiting.shift();
        if (w) w(m);
        else if (m) inbox.push(m);
      };
      const reading = this.options.neverRead ? ended : (async () => {
        const buf = new Uint8Array(64 * 1024);
        try {
          for (;;) {
            const n = await conn.read(buf);
            if (n === null) break;
            parser.push(buf.subarray(0, n));
            for (let m = parser.next(); m; m = parser.next()) deliver(m);
          }
        } catch (e) {
          if (!isDisconnect(e)) throw e;
        } finally {
          finish();
          while (waiting.length > 0) deliver(undefined);
        }
      })();
      const api: PeerScript = {
        meta: this.meta,
        remoteFast: theirs.fast,
        send: (m) => (closed ? Promise.resolve() : writeAll(conn, encodeMessage(m))),
        sendRaw: (b) => (closed ? Promise.resolve() : writeAll(conn, b)),
        next: () =>
          inbox.length > 0
            ? Promise.resolve(inbox.shift())
            : closed
            ? Promise.resolve(undefined)
            : new Promise((r) => waiting.push(r)),
        ended,
        get closed() {
          return closed;
        },
        sleep: (ms) =>
          new Promise<void>((resolve) => {
            const t = setTimeout(resolve, ms);
            ended.then(() => {
              clearTimeout(t);
              resolve();
            });
          }),
      };
      try {
        await this.script(api);
      } finally {
        finish();
        closeQuietly(conn);
        await reading;
      }
    } finally {
      finish();
      closeQuietly(conn);
      this.#conns.delete(conn);
      stop.removeEventListener("abort", finish);
    }
  }
}

async function writeAll(conn: Deno.Conn, data: Uint8Array) {
  for (let done = 0; done < data.length;) done += await conn.write(data.subarray(done));
}

async function readExact(conn: Deno.Conn, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  for (let filled = 0; filled < length;) {
    const n = await conn.read(out.subarray(filled));
    if (n === null) throw new Deno.errors.UnexpectedEof("closed during the handshake");
    filled += n;
  }
  return out;
}

function closeQuietly(conn: Deno.Conn) {
  try {
    conn.close();
  } catch { /* already closed */ }
}

function isDisconnect(e: unknown): boolean {
  return e instanceof Deno.errors.BadResource || e instanceof Deno.errors.ConnectionReset ||
    e instanceof Deno.errors.BrokenPipe || e instanceof Deno.errors.UnexpectedEof ||
    e instanceof Deno.errors.Interrupted || e instanceof Deno.errors.ConnectionAborted ||
    e instanceof Deno.errors.NotConnected;
}
