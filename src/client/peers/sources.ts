/**
 * The one funnel every peer address goes through on its way to the dialer, whichever source
 * found it: trackers, magnet `x.pe`, the user, and the DHT, peer exchange and local discovery.
 * It checks each address, counts what each source brought, and bounds how many addresses a
 * session keeps, so a source that floods (a hostile PEX peer, a busy DHT) cannot grow memory.
 * @module
 */
import type { PeerAddress } from "../../util/ip.ts";

/** Where an address came from. */
export type PeerSource = "tracker" | "magnet" | "user" | "dht" | "pex" | "lsd";

export interface PeerSourcesOptions {
  /** Takes the new, checked addresses (the dialer). */
  accept(addresses: PeerAddress[]): void;
  /** How many distinct addresses the session may hold at most. Default 2,000. */
  maxKnown?: number;
}

const DEFAULT_MAX_KNOWN = 2000;
/** Longest host name accepted (DNS limit); addresses are almost always IP literals. */
const MAX_HOSTNAME = 253;

export class PeerSources {
  readonly #o: PeerSourcesOptions;
  readonly #known = new Set<string>();
  readonly #counts = new Map<PeerSource, number>();
  readonly #max: number;

  constructor(options: PeerSourcesOptions) {
    this.#o = options;
    this.#max = options.maxKnown ?? DEFAULT_MAX_KNOWN;
  }

  /** Addresses taken so far. */
  get size(): number {
    return this.#known.size;
  }

  /** New addresses each source brought. */
  counts(): ReadonlyMap<PeerSource, number> {
    return this.#counts;
  }

  /**
   * Offers addresses from `source`; returns how many were new and taken. Bad ports and names,
   * repeats and anything past the cap are dropped, except that the user's own (`user`,
   * `magnet`) are always taken: they are few and were asked for.
   */
  add(source: PeerSource, addresses: readonly PeerAddress[]): number {
    const fresh: PeerAddress[] = [];
    const always = source === "user" || source === "magnet";
    for (const a of addresses) {
      if (!Number.isInteger(a.port) || a.port <= 0 || a.port > 65535) continue;
      if (a.hostname.length === 0 || a.hostname.length > MAX_HOSTNAME) continue;
      const key = `${a.hostname}:${a.port}`;
      if (this.#known.has(key)) continue;
      if (!always && this.#known.size >= this.#max) break;
      this.#known.add(key);
      fresh.push({ hostname: a.hostname, port: a.port });
    }
    if (fresh.length > 0) {
      this.#counts.set(source, (this.#counts.get(source) ?? 0) + fresh.length);
      this.#o.accept(fresh);
    }
    return fresh.length;
  }
}
