/**
 * The tracker's HTTP routes (Hono): announce, scrape, content list, publishing, stats, page.
 * Announce and scrape answer every refusal with HTTP 200 and a bencoded `failure reason`,
 * because that is the only error every BitTorrent client shows to its user.
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { formatMagnet } from "../../torrent/mod.ts";
import { concat, fromHex, toBinary } from "../../util/bytes.ts";
import { type CatalogEntry, PublishError, TorrentCatalog } from "./catalog.ts";
import { TrackerRequestError } from "../protocol/errors.ts";
import { type HealthCheckOptions, PeerHealthChecker } from "./health.ts";
import { parseIp } from "../../util/ip.ts";
import { renderPage } from "./page.ts";
import { parseAnnounceUrl, parseScrape, rawQuery } from "../protocol/http_query.ts";
import { RateMeter } from "../../util/rate.ts";
import { announceReply, failureReply, scrapeReply } from "../protocol/http_reply.ts";
import { MemorySwarmStore, type SwarmCounts, type SwarmStore } from "./store/store.ts";

/** What the HTTP server hands each request: the socket's peer address. */
export interface TrackerEnv {
  remoteAddr?: { hostname: string; port?: number };
}

export interface TrackerOptions {
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
  /** When set, POST /torrents needs `Authorization: Bearer <token>`. */
  publishToken?: string;
  /** Largest accepted .torrent body. Default 10 MiB. */
  maxTorrentBytes?: number;
  /** Honour the `ip` announce parameter (only for trusted networks). */
  allowIpParam?: boolean;
  /** Take the peer address from the first `X-Forwarded-For` entry (behind a reverse proxy). */
  trustProxy?: boolean;
  /** Dial announced peers and stop handing out the ones that never answer a handshake. */
  checkPeers?: boolean | HealthCheckOptions;
  /** The swarm backend. Default: a MemorySwarmStore with the caps below. */
  store?: SwarmStore;
  maxSwarms?: number;
  maxPeersPerSwarm?: number;
  /** How often expired peers are swept. Default: a tenth of the interval, at most 1 min. */
  sweepIntervalMs?: number;
  /** Peer address when there is no socket (tests); the env's remoteAddr wins if present. */
  getRemoteAddr?: (c: Context) => string | undefined;
  /** Clock in ms; tests pass a fake one. */
  now?: () => number;
  /** Reports problems that are not a request's fault (unreadable torrents, handler bugs). */
  onWarning?: (message: string) => void;
}

/** The app plus what it runs in the background. */
export interface TrackerApp {
  app: Hono<{ Bindings: TrackerEnv }>;
  store: SwarmStore;
  catalog: TorrentCatalog | undefined;
  /**
   * The announce handler without routing, for the server's fast path: full request URL (or
   * just its path and query), socket peer address and X-Forwarded-For in, bencoded reply
   * (always HTTP 200) out. With `borrow` the reply may be a view of a buffer that the next
   * announce overwrites, for a server that copies it out at once.
   */
  announce(
    url: string,
    remote: string | undefined,
    forwarded?: string | null,
    borrow?: boolean,
  ): Uint8Array<ArrayBuffer>;
  /** Stops the sweep and health-check timers (waits for a health round in progress). */
  close(): Promise<void>;
}

/** Bencoded replies: opaque bytes as far as HTTP is concerned. */
export const BENCODE_HEADERS = { "content-type": "text/plain" };

/** Builds the tracker's routes and starts its timers. Loads `torrentsDir` first. */
export async function createTrackerApp(options: TrackerOptions = {}): Promise<TrackerApp> {
  const interval = options.interval ?? 1800;
  const minInterval = options.minInterval ?? Math.max(1, Math.floor(interval / 2));
  const now = options.now ?? Date.now;
  const warn = options.onWarning ?? (() => {});
  const startedAt = now();
  const store = options.store ??
    new MemorySwarmStore({
      ...(options.maxSwarms !== undefined && { maxSwarms: options.maxSwarms }),
      ...(options.maxPeersPerSwarm !== undefined && { maxPeersPerSwarm: options.maxPeersPerSwarm }),
    });
  const catalog = options.torrentsDir === undefined
    ? undefined
    : await TorrentCatalog.open(options.torrentsDir, (f, r) => warn(`skipped ${f}: ${r}`));
  const allowed = new Set<string>();
  for (const hex of options.allowedInfoHashes ?? []) {
    const bytes = fromHex(hex.trim());
    if (bytes?.length === 20) allowed.add(toBinary(bytes));
  }
  const tracked = (infoHash: string) =>
    !options.whitelist || allowed.has(infoHash) || (catalog?.has(infoHash) ?? false);
  const announces = new RateMeter({ windowMs: 10_000, now });
  // The rate is over the time since start-up until a whole window has passed.
  announces.add(0, startedAt);
  const maxTorrentBytes = options.maxTorrentBytes ?? 10 * 1024 * 1024;

  const app = new Hono<{ Bindings: TrackerEnv }>();

  // Expired peers are dropped in the background; 2 x interval leaves room for one missed announce.
  const sweepMs = options.sweepIntervalMs ?? Math.min(60_000, interval * 100);
  const sweepTimer = setInterval(() => store.sweep(now() - 2 * interval * 1000), sweepMs);
  const checker = options.checkPeers
    ? new PeerHealthChecker(store, options.checkPeers === true ? {} : options.checkPeers)
    : undefined;
  checker?.start();

  function peerAddress(
    remote: string | undefined,
    forwarded: string | null | undefined,
  ): Uint8Array | undefined {
    if (options.trustProxy && forwarded) return parseIp(forwarded.split(",")[0]!.trim());
    if (remote === undefined) return undefined;
    // Consecutive announces often come from one address (a NAT, a proxy, a benchmark).
    if (remote !== lastRemote) {
      lastRemote = remote;
      lastAddress = parseIp(remote);
    }
    return lastAddress;
  }
  let lastRemote: string | undefined;
  let lastAddress: Uint8Array | undefined;

  /** The whole announce: URL and socket address in, bencoded reply out. Never throws. */
  function announce(
    url: string,
    remote: string | undefined,
    forwarded?: string | null,
    borrow = false,
  ): Uint8Array<ArrayBuffer> {
    try {
      const req = parseAnnounceUrl(url);
      if (!tracked(req.infoHash)) throw new TrackerRequestError("unregistered torrent");
      let ip = peerAddress(remote, forwarded);
      let checkable = true;
      if (options.allowIpParam && req.ip !== undefined) {
        const claimed = parseIp(req.ip);
        if (!claimed) throw new TrackerRequestError(`invalid ip: ${JSON.stringify(req.ip)}`);
        checkable = ip !== undefined && claimed.join() === ip.join();
        ip = claimed;
      }
      if (!ip) throw new TrackerRequestError("cannot tell your IP address");
      const t = now();
      announces.add(1, t);
      const outcome = store.announce({
        infoHash: req.infoHash,
        peerId: req.peerId,
        ip,
        port: req.port,
        left: req.left,
        uploaded: req.uploaded,
        downloaded: req.downloaded,
        event: req.event,
        numwant: req.numwant,
        checkable,
      }, t);
      return announceReply(outcome, {
        interval,
        minInterval,
        compact: req.compact,
        noPeerId: req.noPeerId,
        borrow,
      }) as Uint8Array<ArrayBuffer>;
    } catch (e) {
      return failureReply(refusal(e, warn)) as Uint8Array<ArrayBuffer>;
    }
  }

  const remoteOf = (c: Context<{ Bindings: TrackerEnv }>) =>
    c.env?.remoteAddr?.hostname ?? options.getRemoteAddr?.(c);

  app.get("/announce", (c) => {
    const body = announce(c.req.url, remoteOf(c), c.req.header("x-forwarded-for"));
    return c.body(body, 200, BENCODE_HEADERS);
  });

  app.get("/scrape", (c) => {
    let body: Uint8Array;
    try {
      let hashes = parseScrape(rawQuery(c.req.url));
      // BEP 48 lets a scrape without info_hash ask for everything; capped to stay cheap.
      if (hashes.length === 0) hashes = take(store.infoHashes(), 1000);
      const files: [string, SwarmCounts][] = [];
      for (const h of hashes) {
        if (tracked(h)) files.push([h, store.scrape(h) ?? zero()]);
      }
      body = scrapeReply(files);
    } catch (e) {
      body = failureReply(refusal(e, warn));
    }
    return c.body(body as Uint8Array<ArrayBuffer>, 200, BENCODE_HEADERS);
  });

  const announceUrlOf = (c: Context) => new URL("/announce", c.req.url).href;

  function listing(entry: CatalogEntry, announceUrl: string) {
    const counts = store.scrape(entry.infoHash) ?? zero();
    return {
      infoHash: entry.infoHashHex,
      name: entry.name,
      length: entry.length,
      fileCount: entry.fileCount,
      seeders: counts.complete,
      leechers: counts.incomplete,
      completed: counts.downloaded,
      magnet: formatMagnet({
        infoHashHex: entry.infoHashHex,
        name: entry.name,
        trackers: [announceUrl],
      }),
      addedAt: new Date(entry.addedAt).toISOString(),
    };
  }

  app.get("/torrents", (c) => {
    const url = announceUrlOf(c);
    return c.json((catalog?.list() ?? []).map((e) => listing(e, url)));
  });

  app.get("/torrents/:name", async (c) => {
    const hex = c.req.param("name").replace(/\.torrent$/, "").toLowerCase();
    const bytes = /^[0-9a-f]{40}$/.test(hex) ? fromHex(hex) : undefined;
    const data = bytes && catalog ? await catalog.read(toBinary(bytes)) : undefined;
    if (!data) return c.json({ error: "no such torrent" }, 404);
    return c.body(data as Uint8Array<ArrayBuffer>, 200, {
      "content-type": "application/x-bittorrent",
      "content-disposition": `attachment; filename="${hex}.torrent"`,
    });
  });

  app.post("/torrents", async (c) => {
    if (!catalog) return c.json({ error: "publishing is off (no torrents folder)" }, 403);
    if (
      options.publishToken !== undefined &&
      c.req.header("authorization") !== `Bearer ${options.publishToken}`
    ) {
      return c.json({ error: "missing or wrong publish token" }, 401);
    }
    const declared = Number(c.req.header("content-length") ?? "0");
    if (declared > maxTorrentBytes) return c.json({ error: "torrent too large" }, 413);
    const body = await readLimited(c.req.raw, maxTorrentBytes);
    if (!body) return c.json({ error: "torrent too large" }, 413);
    try {
      const { entry, created } = await catalog.add(body, now());
      return c.json({ ...listing(entry, announceUrlOf(c)), created }, created ? 201 : 200);
    } catch (e) {
      if (e instanceof PublishError) return c.json({ error: e.message }, 400);
      throw e;
    }
  });

  app.get("/stats", (c) => {
    const t = now();
    return c.json({
      ...store.totals(),
      torrents: catalog?.size ?? 0,
      announces: announces.total,
      announcesPerSecond: announces.rate(t),
      uptimeSeconds: Math.floor((t - startedAt) / 1000),
    });
  });

  app.get("/", (c) => {
    const url = announceUrlOf(c);
    const rows = (catalog?.list() ?? []).map((entry) => {
      const l = listing(entry, url);
      return { entry, counts: store.scrape(entry.infoHash) ?? zero(), magnet: l.magnet };
    });
    return c.html(renderPage(rows, url));
  });

  app.notFound((c) => c.json({ error: "not found" }, 404));
  app.onError((e, c) => {
    warn(`internal error on ${c.req.path}: ${e instanceof Error ? e.stack ?? e.message : e}`);
    // Clients of the tracker protocol only understand a bencoded failure.
    if (c.req.path === "/announce" || c.req.path === "/scrape") {
      const body = failureReply("internal tracker error") as Uint8Array<ArrayBuffer>;
      return c.body(body, 200, BENCODE_HEADERS);
    }
    return c.json({ error: "internal error" }, 500);
  });

  return {
    app,
    store,
    catalog,
    announce,
    async close() {
      clearInterval(sweepTimer);
      await checker?.stop();
    },
  };
}

function zero(): SwarmCounts {
  return { complete: 0, incomplete: 0, downloaded: 0 };
}

function take<T>(it: Iterator<T>, n: number): T[] {
  const out: T[] = [];
  for (let r = it.next(); !r.done && out.length < n; r = it.next()) out.push(r.value);
  return out;
}

/** The failure text for a refused request; anything unexpected is logged, not leaked. */
function refusal(e: unknown, warn: (m: string) => void): string {
  if (e instanceof TrackerRequestError) return e.reason;
  warn(`announce/scrape bug: ${e instanceof Error ? e.stack ?? e.message : e}`);
  return "internal tracker error";
}

/** Reads a request body, giving up (undefined) as soon as it exceeds `limit` bytes. */
async function readLimited(req: Request, limit: number): Promise<Uint8Array | undefined> {
  if (!req.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of req.body) {
    total += chunk.length;
    if (total > limit) return undefined;
    chunks.push(chunk);
  }
  return concat(chunks);
}
