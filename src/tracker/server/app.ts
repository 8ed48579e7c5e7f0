/**
 * The tracker's HTTP routes (Hono) over a {@link TrackerCore}: announce, scrape, content list,
 * publishing, stats, page. Announce and scrape answer every refusal with HTTP 200 and a
 * bencoded `failure reason` (see http.ts).
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { formatMagnet } from "../../torrent/mod.ts";
import { concat, fromHex, toBinary } from "../../util/bytes.ts";
import { type CatalogEntry, PublishError, type TorrentCatalog } from "./catalog.ts";
import { createTrackerCore, type TrackerCore, type TrackerCoreOptions } from "./core.ts";
import { BENCODE_HEADERS, httpAnnounce, httpScrape, queryTooLong, TOO_LONG_TEXT } from "./http.ts";
import { renderPage } from "./page.ts";
import { failureReply } from "../protocol/http_reply.ts";
import type { SwarmStore } from "./store/store.ts";

/** What the HTTP server hands each request: the socket's peer address. */
export interface TrackerEnv {
  remoteAddr?: { hostname: string; port?: number };
}

export interface TrackerOptions extends TrackerCoreOptions {
  /** When set, POST /torrents needs `Authorization: Bearer <token>`. */
  publishToken?: string;
  /** Largest accepted .torrent body. Default 10 MiB. */
  maxTorrentBytes?: number;
  /** Take the peer address from the first `X-Forwarded-For` entry (behind a reverse proxy). */
  trustProxy?: boolean;
  /** Peer address when there is no socket (tests); the env's remoteAddr wins if present. */
  getRemoteAddr?: (c: Context) => string | undefined;
}

/** The app plus what it runs in the background. */
export interface TrackerApp {
  app: Hono<{ Bindings: TrackerEnv }>;
  /** Announce, scrape and policy without HTTP: another transport (UDP) can share it. */
  core: TrackerCore;
  store: SwarmStore;
  catalog: TorrentCatalog | undefined;
  /**
   * The announce handler without routing ({@link httpAnnounce} with this app's trustProxy):
   * full request URL (or just its path and query), socket peer address and X-Forwarded-For
   * in, bencoded reply (always HTTP 200) out. With `borrow` the reply may be a view of a
   * buffer that the next announce overwrites, for a server that copies it out at once.
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

/** Builds the tracker's core and routes and starts its timers. Loads `torrentsDir` first. */
export async function createTrackerApp(options: TrackerOptions = {}): Promise<TrackerApp> {
  const core = await createTrackerCore(options);
  const { store, catalog } = core;
  const trustProxy = options.trustProxy ?? false;
  const maxTorrentBytes = options.maxTorrentBytes ?? 10 * 1024 * 1024;

  const app = new Hono<{ Bindings: TrackerEnv }>();

  // The servers' fast paths check this too; here it holds for the app mounted on its own.
  app.use(async (c, next) => {
    if (queryTooLong(c.req.url)) return c.text(TOO_LONG_TEXT, 414);
    await next();
  });

  const remoteOf = (c: Context<{ Bindings: TrackerEnv }>) =>
    c.env?.remoteAddr?.hostname ?? options.getRemoteAddr?.(c);

  app.get("/announce", (c) => {
    // Reading a header only behind a trusted proxy: otherwise it is the client's word.
    const forwarded = trustProxy ? c.req.header("x-forwarded-for") : null;
    const body = httpAnnounce(core, c.req.url, remoteOf(c), forwarded);
    return c.body(body, 200, BENCODE_HEADERS);
  });

  app.get("/scrape", (c) => c.body(httpScrape(core, c.req.url), 200, BENCODE_HEADERS));

  const announceUrlOf = (c: Context) => new URL("/announce", c.req.url).href;

  function listing(entry: CatalogEntry, announceUrl: string) {
    const counts = core.counts(entry.infoHash);
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
      const { entry, created } = await catalog.add(body, core.now());
      return c.json({ ...listing(entry, announceUrlOf(c)), created }, created ? 201 : 200);
    } catch (e) {
      if (e instanceof PublishError) return c.json({ error: e.message }, 400);
      throw e;
    }
  });

  app.get("/stats", (c) => c.json(core.stats()));

  app.get("/", (c) => {
    const url = announceUrlOf(c);
    const rows = (catalog?.list() ?? []).map((entry) => {
      const l = listing(entry, url);
      return { entry, counts: core.counts(entry.infoHash), magnet: l.magnet };
    });
    return c.html(renderPage(rows, url));
  });

  app.notFound((c) => c.json({ error: "not found" }, 404));
  app.onError((e, c) => {
    core.warn(`internal error on ${c.req.path}: ${e instanceof Error ? e.stack ?? e.message : e}`);
    // Clients of the tracker protocol only understand a bencoded failure.
    if (c.req.path === "/announce" || c.req.path === "/scrape") {
      const body = failureReply("internal tracker error") as Uint8Array<ArrayBuffer>;
      return c.body(body, 200, BENCODE_HEADERS);
    }
    return c.json({ error: "internal error" }, 500);
  });

  return {
    app,
    core,
    store,
    catalog,
    announce: (url, remote, forwarded, borrow) =>
      httpAnnounce(core, url, remote, trustProxy ? forwarded : null, borrow),
    close: () => core.close(),
  };
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
