/**
 * The tracker without a transport: swarms, published torrents, the whitelist, the `ip`
 * parameter policy, numwant limits, the announce rate and the background sweep and health
 * checks. HTTP (the Hono routes and both fast paths) and UDP (BEP 15) hand it decoded
 * requests and encode what it returns, so every transport applies the same rules.
 */
import { fromHex, toBinary } from "../../util/bytes.ts";
import { parseIp } from "../../util/ip.ts";
import { RateMeter } from "../../util/rate.ts";
import { TrackerRequestError } from "../protocol/errors.ts";
import type { AnnounceEvent } from "../protocol/types.ts";
import { TorrentCatalog } from "./catalog.ts";
import { type HealthCheckOptions, PeerHealthChecker } from "./health.ts";
import {
  type AnnounceOutcome,
  MemorySwarmStore,
  type StoreTotals,
  type SwarmCounts,
  type SwarmStore,
} from "./store/store.ts";

/** Peers handed out when a client does not say how many it wants (BEP 3 suggests 50). */
export const DEFAULT_NUMWANT = 50;
/** Most peers in one reply, whatever a client asks for: bounds the reply and the sample's cost. */
export const MAX_NUMWANT = 200;
/** Most swarms a scrape without info hashes (BEP 48) lists. */
export const MAX_SCRAPE_ALL = 1000;

export interface TrackerCoreOptions {
  /** Seconds between a client's regular announces (`interval`). Default 1800. */
  interval?: number;
  /** `min interval`. Default half of `interval`. */
  minInterval?: number;
  /** Folder of published torrents; without it publishing and the content list are off. */
  torrentsDir?: string;
  /** Only published torrents (and `allowedInfoHashes`) are tracked. */
  whitelist?: boolean;
  /** Extra hex info hashes tracked under `whitelist`. */
  allowedInfoHashes?: Iterable<string>;
  /** Honour the `ip` announce parameter (only for trusted networks). */
  allowIpParam?: boolean;
  /** Dial announced peers and stop handing out the ones that never answer a handshake. */
  checkPeers?: boolean | HealthCheckOptions;
  /** The swarm backend. Default: a MemorySwarmStore with the caps below. */
  store?: SwarmStore;
  maxSwarms?: number;
  maxPeersPerSwarm?: number;
  /** How often expired peers are swept. Default: a tenth of the interval, at most 1 min. */
  sweepIntervalMs?: number;
  /** Clock in ms; tests pass a fake one. */
  now?: () => number;
  /** Reports problems that are not a request's fault (unreadable torrents, handler bugs). */
  onWarning?: (message: string) => void;
}

/**
 * One announce as any transport decodes it. Binary strings hold one char per byte. The HTTP
 * parser's AnnounceRequest is one of these as it is, so the hot path copies nothing.
 */
export interface AnnounceParams {
  /** 20-byte info hash (the swarm key). */
  infoHash: string;
  /** 20-byte peer id. */
  peerId: string;
  port: number;
  /** Bytes still wanted; -1 when the client did not say (then it is not a seeder). */
  left: number;
  uploaded: number;
  downloaded: number;
  /** Undefined for a regular announce. */
  event: AnnounceEvent | undefined;
  /** Peers wanted; undefined or negative for the default. Capped at MAX_NUMWANT. */
  numwant: number | undefined;
  /** The address the client claims (`ip` parameter), as text; used only with allowIpParam. */
  ip?: string | undefined;
}

/** Where an announce came from, as the transport saw it. */
export interface AnnounceSource {
  /** 4- or 16-byte address of the socket (or trusted proxy header); undefined if unknown. */
  ip: Uint8Array | undefined;
}

/** `/stats`: the store's totals plus the tracker's own counters. */
export interface TrackerStats extends StoreTotals {
  /** Published torrents. */
  torrents: number;
  /** Announces accepted since start-up. */
  announces: number;
  /** Over the last 10 s (or since start-up, when shorter). */
  announcesPerSecond: number;
  uptimeSeconds: number;
}

/** Builds a tracker core and starts its timers. Loads `torrentsDir` first. */
export async function createTrackerCore(options: TrackerCoreOptions = {}): Promise<TrackerCore> {
  const warn = options.onWarning ?? (() => {});
  const catalog = options.torrentsDir === undefined
    ? undefined
    : await TorrentCatalog.open(options.torrentsDir, (f, r) => warn(`skipped ${f}: ${r}`));
  return new TrackerCore(options, catalog);
}

/** See the module comment; build one with {@link createTrackerCore}. */
export class TrackerCore {
  readonly store: SwarmStore;
  /** Published torrents; undefined when there is no torrents folder. */
  readonly catalog: TorrentCatalog | undefined;
  /** Seconds, as every transport's reply tells clients. */
  readonly interval: number;
  readonly minInterval: number;
  /** Clock in ms (the one the options gave). */
  readonly now: () => number;
  /** Reports problems that are not a request's fault. */
  readonly warn: (message: string) => void;
  readonly #whitelist: boolean;
  readonly #allowed = new Set<string>();
  readonly #allowIpParam: boolean;
  readonly #announces: RateMeter;
  readonly #startedAt: number;
  readonly #sweepTimer: ReturnType<typeof setInterval>;
  readonly #checker: PeerHealthChecker | undefined;
  #closed: Promise<void> | undefined;

  /** Prefer {@link createTrackerCore}, which also opens the catalog. */
  constructor(options: TrackerCoreOptions = {}, catalog?: TorrentCatalog) {
    this.interval = options.interval ?? 1800;
    this.minInterval = options.minInterval ?? Math.max(1, Math.floor(this.interval / 2));
    this.now = options.now ?? Date.now;
    this.warn = options.onWarning ?? (() => {});
    this.catalog = catalog;
    this.store = options.store ??
      new MemorySwarmStore({
        ...(options.maxSwarms !== undefined && { maxSwarms: options.maxSwarms }),
        ...(options.maxPeersPerSwarm !== undefined &&
          { maxPeersPerSwarm: options.maxPeersPerSwarm }),
      });
    this.#whitelist = options.whitelist ?? false;
    for (const hex of options.allowedInfoHashes ?? []) {
      const bytes = fromHex(hex.trim());
      if (bytes?.length === 20) this.#allowed.add(toBinary(bytes));
    }
    this.#allowIpParam = options.allowIpParam ?? false;
    this.#startedAt = this.now();
    this.#announces = new RateMeter({ windowMs: 10_000, now: this.now });
    // The rate is over the time since start-up until a whole window has passed.
    this.#announces.add(0, this.#startedAt);
    // Expired peers are dropped in the background; 2 x interval leaves room for one missed
    // announce.
    const sweepMs = options.sweepIntervalMs ?? Math.min(60_000, this.interval * 100);
    const store = this.store;
    const now = this.now;
    const expiry = 2 * this.interval * 1000;
    this.#sweepTimer = setInterval(() => store.sweep(now() - expiry), sweepMs);
    this.#checker = options.checkPeers
      ? new PeerHealthChecker(store, options.checkPeers === true ? {} : options.checkPeers)
      : undefined;
    this.#checker?.start();
  }

  /** Whether this tracker serves a swarm (always, unless it runs a whitelist). */
  tracked(infoHash: string): boolean {
    return !this.#whitelist || this.#allowed.has(infoHash) ||
      (this.catalog?.has(infoHash) ?? false);
  }

  /**
   * Records an announce and picks peers for the reply: never the announcing peer, never
   * seeders for a seeder. Throws TrackerRequestError (unregistered torrent, invalid ip,
   * unknown address) for the transport to send back. The outcome's peers are valid until
   * the next announce (see AnnounceOutcome).
   */
  announce(params: AnnounceParams, source: AnnounceSource): AnnounceOutcome {
    if (!this.tracked(params.infoHash)) throw new TrackerRequestError("unregistered torrent");
    let ip = source.ip;
    let checkable = true;
    if (this.#allowIpParam && params.ip !== undefined) {
      const claimed = parseIp(params.ip);
      if (!claimed) throw new TrackerRequestError(`invalid ip: ${JSON.stringify(params.ip)}`);
      // A claimed address is never dialled by health checks unless the socket agrees.
      checkable = ip !== undefined && sameBytes(claimed, ip);
      ip = claimed;
    }
    if (!ip) throw new TrackerRequestError("cannot tell your IP address");
    const numwant = params.numwant;
    const t = this.now();
    this.#announces.add(1, t);
    return this.store.announce({
      infoHash: params.infoHash,
      peerId: params.peerId,
      ip,
      port: params.port,
      left: params.left,
      uploaded: params.uploaded,
      downloaded: params.downloaded,
      event: params.event,
      numwant: numwant === undefined || numwant < 0
        ? DEFAULT_NUMWANT
        : numwant > MAX_NUMWANT
        ? MAX_NUMWANT
        : numwant,
      checkable,
    }, t);
  }

  /**
   * Counts for each tracked info hash asked for, in order (untracked ones are left out). No
   * hashes asks for every swarm (BEP 48), capped at MAX_SCRAPE_ALL to stay cheap.
   */
  scrape(infoHashes: readonly string[]): [string, SwarmCounts][] {
    const hashes = infoHashes.length === 0
      ? take(this.store.infoHashes(), MAX_SCRAPE_ALL)
      : infoHashes;
    const files: [string, SwarmCounts][] = [];
    for (const h of hashes) {
      if (this.tracked(h)) files.push([h, this.counts(h)]);
    }
    return files;
  }

  /** A swarm's counts; zeros for a swarm nobody is in. */
  counts(infoHash: string): SwarmCounts {
    return this.store.scrape(infoHash) ?? { complete: 0, incomplete: 0, downloaded: 0 };
  }

  stats(): TrackerStats {
    const t = this.now();
    return {
      ...this.store.totals(),
      torrents: this.catalog?.size ?? 0,
      announces: this.#announces.total,
      announcesPerSecond: this.#announces.rate(t),
      uptimeSeconds: Math.floor((t - this.#startedAt) / 1000),
    };
  }

  /** Stops the sweep and health-check timers (waits for a health round in progress). */
  close(): Promise<void> {
    if (!this.#closed) {
      clearInterval(this.#sweepTimer);
      this.#closed = this.#checker?.stop() ?? Promise.resolve();
    }
    return this.#closed;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function take<T>(it: Iterator<T>, n: number): T[] {
  const out: T[] = [];
  for (let r = it.next(); !r.done && out.length < n; r = it.next()) out.push(r.value);
  return out;
}
