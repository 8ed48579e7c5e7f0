/**
 * The tracker core over HTTP: query in, bencoded reply out (BEP 3, 7, 23, 48), plus the one
 * routing decision both fast paths (Deno.serve, epoll) and the Hono app share. Every refusal
 * is HTTP 200 with a bencoded `failure reason`, the only error every BitTorrent client shows.
 */
import { parseIp } from "../../util/ip.ts";
import { TrackerRequestError } from "../protocol/errors.ts";
import { parseAnnounceUrl, parseScrape, rawQuery } from "../protocol/http_query.ts";
import { announceReply, failureReply, scrapeReply } from "../protocol/http_reply.ts";
import type { AnnounceSource, TrackerCore } from "./core.ts";

/** Longest query string served (HTTP 414 above): room for a scrape of ~200 info hashes. */
export const MAX_QUERY_BYTES = 16 * 1024;

/** Bencoded replies: opaque bytes as far as HTTP is concerned. */
export const BENCODE_HEADERS = { "content-type": "text/plain" };

/** The body of the 414 reply. */
export const TOO_LONG_TEXT = "query string too long\n";

/** What a server does with a request before any framework sees it. */
export const HttpRoute = {
  /** Anything else: the Hono app's. */
  Other: 0,
  /** GET /announce: {@link httpAnnounce}, nearly all a tracker's traffic. */
  Announce: 1,
  /** The query is over MAX_QUERY_BYTES: 414, nothing parses it. */
  TooLong: 2,
} as const;
export type HttpRoute = (typeof HttpRoute)[keyof typeof HttpRoute];

/**
 * A real announce is ~300 bytes; nothing parses a longer query than MAX_QUERY_BYTES. Works on
 * a request target or a full URL (a `?` cannot come before the path in either).
 */
export function queryTooLong(target: string): boolean {
  const query = target.indexOf("?");
  return query >= 0 && target.length - query - 1 > MAX_QUERY_BYTES;
}

/**
 * Routes a request: `path` is where the path starts in `target` (0 for a request target, past
 * the authority for a full URL).
 */
export function routeOf(method: string, target: string, path: number): HttpRoute {
  if (queryTooLong(target)) return HttpRoute.TooLong;
  if (
    method === "GET" && target.startsWith("/announce", path) &&
    (target.length === path + 9 || target.charCodeAt(path + 9) === 63 /* ? */)
  ) {
    return HttpRoute.Announce;
  }
  return HttpRoute.Other;
}

/** Reused by every announce: the core reads it and keeps nothing. */
const source: AnnounceSource = { ip: undefined };

/**
 * The whole HTTP announce: request URL (or just its path and query), socket peer address and
 * X-Forwarded-For in, bencoded reply (always HTTP 200) out. Never throws. Pass `forwarded`
 * only from a trusted proxy: when present its first entry is the peer's address. With
 * `borrow` the reply may be a view of a buffer that the next announce overwrites, for a
 * server that copies it out at once.
 */
export function httpAnnounce(
  core: TrackerCore,
  url: string,
  remote: string | undefined,
  forwarded?: string | null,
  borrow = false,
): Uint8Array<ArrayBuffer> {
  try {
    const req = parseAnnounceUrl(url);
    source.ip = peerAddress(remote, forwarded);
    const outcome = core.announce(req, source);
    return announceReply(outcome, {
      interval: core.interval,
      minInterval: core.minInterval,
      compact: req.compact,
      noPeerId: req.noPeerId,
      borrow,
    }) as Uint8Array<ArrayBuffer>;
  } catch (e) {
    return failureReply(refusal(e, core)) as Uint8Array<ArrayBuffer>;
  }
}

/** The HTTP scrape (BEP 48): request URL in, bencoded `files` (or failure) out. Never throws. */
export function httpScrape(core: TrackerCore, url: string): Uint8Array<ArrayBuffer> {
  try {
    return scrapeReply(core.scrape(parseScrape(rawQuery(url)))) as Uint8Array<ArrayBuffer>;
  } catch (e) {
    return failureReply(refusal(e, core)) as Uint8Array<ArrayBuffer>;
  }
}

function peerAddress(
  remote: string | undefined,
  forwarded: string | null | undefined,
): Uint8Array | undefined {
  if (forwarded) return parseIp(forwarded.split(",")[0]!.trim());
  if (remote === undefined) return undefined;
  // Consecutive announces often come from one address (a NAT, a proxy, a benchmark). The
  // address is only read (the store copies it into the peer's key), so one can be shared.
  if (remote !== lastRemote) {
    lastRemote = remote;
    lastAddress = parseIp(remote);
  }
  return lastAddress;
}
let lastRemote: string | undefined;
let lastAddress: Uint8Array | undefined;

/** The failure text for a refused request; anything unexpected is logged, not leaked. */
function refusal(e: unknown, core: TrackerCore): string {
  if (e instanceof TrackerRequestError) return e.reason;
  core.warn(`announce/scrape bug: ${e instanceof Error ? e.stack ?? e.message : e}`);
  return "internal tracker error";
}
