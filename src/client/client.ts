import { toHex } from "../util/bytes.ts";
import { BtxError } from "../util/errors.ts";
import { PeerConnection } from "../wire/mod.ts";
import { type ConnectionSink, HANDSHAKE_FEATURES, type PeerHost } from "./peers/host.ts";
import { generatePeerId } from "./peers/peer_id.ts";

export { type ConnectionSink, HANDSHAKE_FEATURES, type PeerHost } from "./peers/host.ts";

export interface ClientOptions {
  /** First port to try (default 6881); if taken, the next ones up to `portTries`. 0 = any free. */
  port?: number;
  portTries?: number;
  /** Listen address (default all IPv4 and IPv6 addresses). */
  hostname?: string;
  peerId?: Uint8Array;
  /** Reports connection-level problems (a refused handshake); never thrown. */
  onError?: (error: Error) => void;
}

/**
 * One listening port and peer id shared by every torrent this process serves: incoming
 * handshakes are routed by info hash (as real clients do, several torrents share a port).
 */
export class Client implements PeerHost {
  readonly peerId: Uint8Array;
  readonly port: number;
  /**
   * The one address we listen on, when `hostname` named one (not a wildcard): sent to trackers
   * as BEP 3 `ip`, since our announces may leave from another source address.
   */
  readonly listenAddress: string | undefined;
  readonly #listener: Deno.TcpListener;
  readonly #sinks = new Map<string, ConnectionSink>();
  readonly #onError: (error: Error) => void;
  readonly #accepting: Promise<void>;
  readonly #handshakes = new Set<Promise<void>>();
  readonly #pendingConns = new Set<Deno.TcpConn>();
  #closed = false;

  private constructor(listener: Deno.TcpListener, options: ClientOptions) {
    this.#listener = listener;
    this.port = listener.addr.port;
    const host = options.hostname?.replace(/^\[(.*)\]$/, "$1");
    this.listenAddress = host === undefined || host === "0.0.0.0" || host === "::"
      ? undefined
      : host;
    this.peerId = options.peerId ?? generatePeerId();
    this.#onError = options.onError ?? (() => {});
    this.#accepting = this.#acceptLoop();
  }

  /** Opens the listening port. @throws {BtxError} when no port in the range is free. */
  static start(options: ClientOptions = {}): Client {
    const first = options.port ?? 6881;
    const tries = first === 0 ? 1 : options.portTries ?? 10;
    let lastError: unknown;
    for (let port = first; port < first + tries && port <= 65535; port++) {
      for (const hostname of options.hostname ? [options.hostname] : ["[::]", "0.0.0.0"]) {
        try {
          return new Client(Deno.listen({ hostname, port, transport: "tcp" }), options);
        } catch (e) {
          lastError = e;
        }
      }
    }
    const why = lastError instanceof Error ? lastError.message : String(lastError);
    throw new BtxError(`cannot listen on ports ${first}..${first + tries - 1}: ${why}`);
  }

  register(sink: ConnectionSink): void {
    this.#sinks.set(sink.infoHashHex, sink);
  }

  unregister(sink: ConnectionSink): void {
    if (this.#sinks.get(sink.infoHashHex) === sink) this.#sinks.delete(sink.infoHashHex);
  }

  async #acceptLoop(): Promise<void> {
    for (;;) {
      let conn: Deno.TcpConn;
      try {
        conn = await this.#listener.accept();
      } catch (e) {
        if (this.#closed) return;
        // EMFILE and friends: report and keep accepting rather than going deaf.
        this.#onError(e instanceof Error ? e : new Error(String(e)));
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      const handshake = this.#handshake(conn);
      this.#handshakes.add(handshake);
      handshake.finally(() => this.#handshakes.delete(handshake));
    }
  }

  async #handshake(conn: Deno.TcpConn): Promise<void> {
    this.#pendingConns.add(conn);
    try {
      const peer = await PeerConnection.accept(conn, {
        peerId: this.peerId,
        ...HANDSHAKE_FEATURES,
        timeoutMs: 10_000,
        lookup: (infoHash) => this.#sinks.has(toHex(infoHash)),
      });
      const sink = this.#sinks.get(toHex(peer.infoHash));
      if (!sink || this.#closed) peer.close();
      else sink.addConnection(peer);
    } catch (e) {
      if (!this.#closed) this.#onError(e instanceof Error ? e : new Error(String(e)));
    } finally {
      this.#pendingConns.delete(conn);
    }
  }

  /** Stops listening. Sessions close their own connections. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#listener.close();
    await this.#accepting;
    for (const conn of this.#pendingConns) {
      try {
        conn.close();
      } catch {
        // Already closed by a failed handshake.
      }
    }
    await Promise.allSettled([...this.#handshakes]);
  }
}
