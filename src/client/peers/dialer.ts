import { PeerConnection, WireError } from "../../wire/mod.ts";
import { HANDSHAKE_FEATURES } from "./host.ts";

import type { PeerAddress } from "../../util/ip.ts";
export type { PeerAddress };

export interface DialerOptions {
  infoHash: Uint8Array;
  peerId: Uint8Array;
  /** Aborts every dial in progress (the session stopped). */
  signal: AbortSignal;
  /** Connected peers at most (dials in progress count too). */
  maxPeers: number;
  /** How many peers are connected now. */
  connectedCount(): number;
  /** Whether `key` ("host:port") is connected now. */
  isConnected(key: string): boolean;
  /** A dial succeeded: the session takes the connection over. */
  onConnection(conn: PeerConnection): void;
  /** Injected in tests; default PeerConnection.connect. */
  connect?: typeof PeerConnection.connect;
}

const CONNECT_TIMEOUT_MS = 10_000;
/** Simultaneous dials: enough to fill slots fast, few enough not to look like a port scan. */
const MAX_CONNECTING = 8;
/** A peer we were connected to is not redialled for this long after it leaves. */
const REDIAL_AFTER_MS = 30_000;
/** The wire layer's reason when a handshake shows our own peer id. */
const SELF = "connected to ourselves";

interface KnownPeer extends PeerAddress {
  failures: number;
  /** performance.now() before which we do not dial; -1 while a dial is in progress. */
  retryAt: number;
  banned: boolean;
}

/**
 * The addresses a session has heard of (trackers, magnet `x.pe`, the user) and the dialling of
 * them: a cap on connections and on simultaneous dials, exponential backoff for dead addresses,
 * and a ban list for peers that sent corrupt data or turned out to be ourselves.
 */
export class PeerDialer {
  readonly #o: DialerOptions;
  readonly #known = new Map<string, KnownPeer>();
  readonly #dials = new Set<Promise<void>>();

  constructor(options: DialerOptions) {
    this.#o = options;
  }

  /** Dials in progress. */
  get connecting(): number {
    return this.#dials.size;
  }

  /** Remembers addresses (invalid ports are ignored); call `dialMore` to use them. */
  add(addresses: readonly PeerAddress[]): void {
    for (const a of addresses) {
      if (!Number.isInteger(a.port) || a.port <= 0 || a.port > 65535) continue;
      const key = `${a.hostname}:${a.port}`;
      if (!this.#known.has(key)) {
        this.#known.set(key, { ...a, failures: 0, retryAt: 0, banned: false });
      }
    }
  }

  /** Refuses `key` for the rest of the session (incoming and outgoing). */
  ban(address: PeerAddress): void {
    const key = `${address.hostname}:${address.port}`;
    const known = this.#known.get(key);
    if (known) known.banned = true;
    else this.#known.set(key, { ...address, failures: 0, retryAt: 0, banned: true });
  }

  isBanned(key: string): boolean {
    return this.#known.get(key)?.banned === true;
  }

  /** Whether some known address could be dialled now (for freeing a slot for it). */
  hasCandidates(now = performance.now()): boolean {
    for (const [key, k] of this.#known) {
      if (this.#dialable(key, k, now)) return true;
    }
    return false;
  }

  /** Starts dials while there are free slots and dialable addresses. */
  dialMore(now = performance.now()): void {
    const o = this.#o;
    if (o.signal.aborted) return;
    for (const [key, k] of this.#known) {
      const busy = o.connectedCount() + this.#dials.size;
      if (busy >= o.maxPeers || this.#dials.size >= MAX_CONNECTING) return;
      if (this.#dialable(key, k, now)) this.#dial(k);
    }
  }

  /** Resolves when no dial is in progress (after `signal` aborted, promptly). */
  async idle(): Promise<void> {
    while (this.#dials.size > 0) await Promise.allSettled([...this.#dials]);
  }

  #dialable(key: string, k: KnownPeer, now: number): boolean {
    return !k.banned && k.retryAt !== -1 && k.retryAt <= now && !this.#o.isConnected(key);
  }

  #dial(k: KnownPeer) {
    const o = this.#o;
    k.retryAt = -1;
    const dial = (o.connect ?? PeerConnection.connect)({
      hostname: k.hostname,
      port: k.port,
      infoHash: o.infoHash,
      peerId: o.peerId,
      ...HANDSHAKE_FEATURES,
      timeoutMs: CONNECT_TIMEOUT_MS,
      signal: o.signal,
    }).then(
      (conn) => {
        k.failures = 0;
        k.retryAt = performance.now() + REDIAL_AFTER_MS;
        o.onConnection(conn);
      },
      (e) => {
        // A tracker listed our own address: dialling it again would only find us again.
        if (e instanceof WireError && e.reason === SELF) k.banned = true;
        k.failures++;
        // Back off 5 s, 10 s, 20 s... up to 5 minutes between attempts at a dead address.
        k.retryAt = performance.now() + Math.min(5_000 * 2 ** (k.failures - 1), 300_000);
      },
    ).finally(() => this.#dials.delete(dial));
    this.#dials.add(dial);
  }
}
