/**
 * Peer health checks (`--check-peers`): the tracker dials each announced address, sends a
 * BitTorrent handshake for that swarm's info hash, and expects one back for the same hash.
 * Peers failing several checks in a row stop being handed out (see MemorySwarmStore). Only
 * addresses taken from the announcing connection are dialled, never an `ip` parameter, so
 * the tracker cannot be pointed at a third party.
 */
import { decodeHandshake, encodeHandshake, HANDSHAKE_LENGTH } from "../../wire/mod.ts";
import { fromBinary } from "../../util/bytes.ts";
import { formatIp } from "../../util/ip.ts";
import type { SwarmStore } from "./store/store.ts";

export interface HealthCheckOptions {
  /** Pause between rounds (each round checks every checkable peer once). Default 5 min. */
  intervalMs?: number;
  /** Connections in flight at once. Default 16. */
  concurrency?: number;
  /** Limit for connect + handshake exchange. Default 5 s. */
  timeoutMs?: number;
  /** The peer id the tracker presents. Default `-BT0001-` plus random bytes. */
  peerId?: Uint8Array;
  /** Reports each finished round (the CLI may log it). */
  onRound?: (result: { checked: number; failed: number }) => void;
}

/** Does a BitTorrent handshake with `hostname:port` for `infoHash`; true if it answers right. */
export async function handshakePeer(
  hostname: string,
  port: number,
  infoHash: Uint8Array,
  peerId: Uint8Array,
  timeoutMs: number,
): Promise<boolean> {
  const abort = new AbortController();
  let conn: Deno.TcpConn | undefined;
  const timer = setTimeout(() => {
    abort.abort();
    try {
      conn?.close();
    } catch {
      // Already closed.
    }
    conn = undefined;
  }, timeoutMs);
  try {
    conn = await Deno.connect({ hostname, port, transport: "tcp", signal: abort.signal });
    await conn.write(encodeHandshake({ infoHash, peerId }));
    const reply = new Uint8Array(HANDSHAKE_LENGTH);
    let got = 0;
    while (got < HANDSHAKE_LENGTH) {
      const n = await conn.read(reply.subarray(got));
      if (n === null) return false;
      got += n;
    }
    const hs = decodeHandshake(reply);
    return hs.infoHash.every((b, i) => b === infoHash[i]);
  } catch {
    // Refused, reset, timed out or not a BitTorrent handshake: all count as a failure.
    return false;
  } finally {
    clearTimeout(timer);
    try {
      conn?.close();
    } catch {
      // Closed by the timeout.
    }
  }
}

function randomPeerId(): Uint8Array {
  const id = new Uint8Array(20);
  id.set(new TextEncoder().encode("-BT0001-"));
  crypto.getRandomValues(id.subarray(8));
  return id;
}

/** Runs health-check rounds on a timer until stopped. */
export class PeerHealthChecker {
  readonly #store: SwarmStore;
  readonly #intervalMs: number;
  readonly #concurrency: number;
  readonly #timeoutMs: number;
  readonly #peerId: Uint8Array;
  readonly #onRound: HealthCheckOptions["onRound"];
  #timer: ReturnType<typeof setInterval> | undefined;
  #running: Promise<unknown> | undefined;
  #stopped = false;

  constructor(store: SwarmStore, options: HealthCheckOptions = {}) {
    this.#store = store;
    this.#intervalMs = options.intervalMs ?? 5 * 60_000;
    this.#concurrency = Math.max(1, options.concurrency ?? 16);
    this.#timeoutMs = options.timeoutMs ?? 5_000;
    this.#peerId = options.peerId ?? randomPeerId();
    this.#onRound = options.onRound;
  }

  /** Schedules rounds every `intervalMs`, the first one after one interval. */
  start(): void {
    if (this.#timer !== undefined || this.#stopped) return;
    this.#timer = setInterval(() => {
      if (this.#running) return;
      this.#running = this.runOnce().then((r) => this.#onRound?.(r)).finally(() => {
        this.#running = undefined;
      });
    }, this.#intervalMs);
  }

  /** Stops the timer and waits for a round in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  /** Checks every checkable peer once, `concurrency` at a time. */
  async runOnce(): Promise<{ checked: number; failed: number }> {
    const targets = [...this.#store.checkablePeers()];
    let next = 0;
    let failed = 0;
    const worker = async () => {
      while (next < targets.length && !this.#stopped) {
        const { infoHash, peer } = targets[next++]!;
        const addr = fromBinary(peer.key.slice(20));
        const ok = await handshakePeer(
          formatIp(addr.subarray(0, addr.length - 2)),
          (addr[addr.length - 2]! << 8) | addr[addr.length - 1]!,
          fromBinary(infoHash),
          this.#peerId,
          this.#timeoutMs,
        );
        if (!ok) failed++;
        this.#store.recordCheck(infoHash, peer.key, ok);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#concurrency, targets.length) }, worker));
    return { checked: targets.length, failed };
  }
}
