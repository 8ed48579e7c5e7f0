/**
 * One HTTP tracker request: announce (BEP 3, compact peers BEP 23, IPv6 peers BEP 7) and
 * scrape (BEP 48). Tier handling and the announce lifecycle live in `announce.ts`.
 * @module
 */
import {
  type BDict,
  type BValue,
  decode,
  isBytes,
  isDict,
  isInt,
  isList,
} from "../../bencode/mod.ts";
import { fromBinary, toBinary, toHex, utf8, utf8Bytes } from "../../util/bytes.ts";
import { parseCompactPeers } from "../../util/compact.ts";
import type { PeerAddress } from "../../util/ip.ts";
import { TrackerError } from "../protocol/errors.ts";
import type { AnnounceEvent } from "../protocol/types.ts";
import { httpGet, HttpGetFailure } from "../../net/http/get.ts";

export interface AnnounceParams {
  /** 20-byte SHA-1 info hash. */
  infoHash: Uint8Array;
  /** 20-byte peer id. */
  peerId: Uint8Array;
  /** The port we accept peer connections on. */
  port: number;
  uploaded: number;
  downloaded: number;
  /** Bytes still missing; 0 tells the tracker we are a seed. */
  left: number;
  event?: AnnounceEvent;
  numwant?: number;
  key?: string;
  /** The `tracker id` an earlier response gave us, as a binary string (one char per byte). */
  trackerId?: string;
  /** Ask for the BEP 23 compact peer list (default true). */
  compact?: boolean;
  /**
   * BEP 3 `ip`: the address peers should dial, when we listen on one address only. Trackers
   * may ignore it (most do unless told to trust it) and use the request's source address.
   */
  ip?: string;
}

export interface RequestOptions {
  signal?: AbortSignal;
  /** Whole request including the body (default 15000). */
  timeoutMs?: number;
  /** Largest response body accepted (default 2 MiB). */
  maxBytes?: number;
}

/** A peer from a tracker: where to dial it and, in the old non-compact form, its peer id. */
export interface Peer extends PeerAddress {
  peerId?: Uint8Array;
}

export interface AnnounceResponse {
  /** Seconds until the next regular announce. */
  interval: number;
  /** Seconds the tracker wants at least between announces. */
  minInterval?: number;
  /** Binary string to echo back as `trackerid` on later announces. */
  trackerId?: string;
  /** Seeders. */
  complete?: number;
  /** Leechers. */
  incomplete?: number;
  peers: Peer[];
  warning?: string;
}

export interface ScrapeEntry {
  complete: number;
  downloaded: number;
  incomplete: number;
  name?: string;
}

const DEFAULT_TIMEOUT_MS = 15_000;
const DEFAULT_MAX_BYTES = 2 * 1024 * 1024;
/** Used when a tracker leaves out the required `interval`: 30 minutes, the common default. */
const FALLBACK_INTERVAL = 1800;

/**
 * Percent-encodes raw bytes for a query string: RFC 3986 unreserved characters stay as they
 * are, every other byte becomes %XX. Trackers compare info_hash byte for byte, so this must
 * not go through a text encoder.
 */
export function percentEncodeBytes(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) {
    const unreserved = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) ||
      (b >= 0x61 && b <= 0x7a) || b === 0x2d || b === 0x2e || b === 0x5f || b === 0x7e;
    out += unreserved
      ? String.fromCharCode(b)
      : "%" + b.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}

/** Appends `query` to `url`, with `&` when it already has a query; keeps a #fragment last. */
export function appendQuery(url: string, query: string): string {
  const hash = url.indexOf("#");
  const base = hash === -1 ? url : url.slice(0, hash);
  const fragment = hash === -1 ? "" : url.slice(hash);
  const sep = !base.includes("?") ? "?" : base.endsWith("?") || base.endsWith("&") ? "" : "&";
  return base + sep + query + fragment;
}

/** The full announce URL for `params` (exported for tests and diagnostics). */
export function buildAnnounceUrl(url: string, params: AnnounceParams): string {
  if (params.infoHash.length !== 20) throw new RangeError("info hash must be 20 bytes");
  if (params.peerId.length !== 20) throw new RangeError("peer id must be 20 bytes");
  const whole = (n: number) => String(Math.max(0, Math.floor(n)));
  const parts = [
    `info_hash=${percentEncodeBytes(params.infoHash)}`,
    `peer_id=${percentEncodeBytes(params.peerId)}`,
    `port=${whole(params.port)}`,
    `uploaded=${whole(params.uploaded)}`,
    `downloaded=${whole(params.downloaded)}`,
    `left=${whole(params.left)}`,
    `compact=${params.compact === false ? 0 : 1}`,
  ];
  if (params.event) parts.push(`event=${params.event}`);
  if (params.numwant !== undefined) parts.push(`numwant=${whole(params.numwant)}`);
  if (params.key !== undefined) parts.push(`key=${percentEncodeBytes(utf8Bytes(params.key))}`);
  if (params.trackerId !== undefined) {
    parts.push(`trackerid=${percentEncodeBytes(fromBinary(params.trackerId))}`);
  }
  if (params.ip !== undefined) parts.push(`ip=${encodeURIComponent(params.ip)}`);
  return appendQuery(url, parts.join("&"));
}

/**
 * Announces to one HTTP(S) tracker and parses its answer.
 * @throws {TrackerError} on a `failure reason`, an HTTP error, a timeout, a network error or a
 * body that is not a bencoded dictionary.
 */
export async function announce(
  url: string,
  params: AnnounceParams,
  options: RequestOptions = {},
): Promise<AnnounceResponse> {
  checkHttpUrl(url);
  const body = await trackerGet(url, buildAnnounceUrl(url, params), options);
  return parseAnnounceResponse(url, body);
}

/** Parses a bencoded announce response (exported for tests and for fuzzing). */
export function parseAnnounceResponse(url: string, body: Uint8Array): AnnounceResponse {
  const dict = decodeDict(url, body);
  const interval = optionalInt(url, dict, "interval") ?? FALLBACK_INTERVAL;
  const response: AnnounceResponse = { interval, peers: [] };
  const minInterval = optionalInt(url, dict, "min interval");
  if (minInterval !== undefined) response.minInterval = minInterval;
  const trackerId = dict.get("tracker id");
  if (isBytes(trackerId) && trackerId.length > 0) response.trackerId = toBinary(trackerId);
  const complete = optionalInt(url, dict, "complete");
  if (complete !== undefined) response.complete = complete;
  const incomplete = optionalInt(url, dict, "incomplete");
  if (incomplete !== undefined) response.incomplete = incomplete;
  const warning = dict.get("warning message");
  if (isBytes(warning)) response.warning = utf8(warning);

  const peers = dict.get("peers");
  if (isBytes(peers)) response.peers.push(...parseCompactPeers(peers, 6));
  else if (isList(peers)) response.peers.push(...parseDictPeers(peers));
  else if (peers !== undefined) throw new TrackerError(url, "protocol", "peers is not a list");
  const peers6 = dict.get("peers6");
  if (isBytes(peers6)) response.peers.push(...parseCompactPeers(peers6, 18));
  return response;
}

/**
 * Asks a tracker for swarm counts (BEP 48). The result is keyed by lower-case hex info hash;
 * torrents the tracker does not know are simply absent.
 */
export async function scrape(
  announceUrl: string,
  infoHashes: Uint8Array[],
  options: RequestOptions = {},
): Promise<Map<string, ScrapeEntry>> {
  const scrapeUrl = scrapeUrlFor(announceUrl);
  const query = infoHashes.map((h) => `info_hash=${percentEncodeBytes(h)}`).join("&");
  const body = await trackerGet(scrapeUrl, appendQuery(scrapeUrl, query), options);
  const dict = decodeDict(scrapeUrl, body);
  const files = dict.get("files");
  const result = new Map<string, ScrapeEntry>();
  if (files === undefined) return result;
  if (!isDict(files)) throw new TrackerError(scrapeUrl, "protocol", "files is not a dictionary");
  for (const [key, value] of files) {
    if (key.length !== 20 || !isDict(value)) continue;
    const entry: ScrapeEntry = {
      complete: optionalInt(scrapeUrl, value, "complete") ?? 0,
      downloaded: optionalInt(scrapeUrl, value, "downloaded") ?? 0,
      incomplete: optionalInt(scrapeUrl, value, "incomplete") ?? 0,
    };
    const name = value.get("name");
    if (isBytes(name)) entry.name = utf8(name);
    result.set(toHex(fromBinary(key)), entry);
  }
  return result;
}

/**
 * The scrape URL by the BEP 48 convention: the text after the announce URL's last `/` must
 * start with `announce`, which becomes `scrape` (`/x/announce.php?k=1` -> `/x/scrape.php?k=1`).
 * @throws {TrackerError} (kind "unsupported") when the URL does not follow the convention.
 */
export function scrapeUrlFor(announceUrl: string): string {
  checkHttpUrl(announceUrl);
  const end = announceUrl.search(/[?#]/);
  const path = end === -1 ? announceUrl : announceUrl.slice(0, end);
  const slash = path.lastIndexOf("/");
  if (slash < path.indexOf("//") + 2 || !path.startsWith("announce", slash + 1)) {
    throw new TrackerError(announceUrl, "unsupported", "cannot derive a scrape URL (BEP 48)");
  }
  return announceUrl.slice(0, slash + 1) + "scrape" + announceUrl.slice(slash + 9);
}

/** Throws a TrackerError unless `url` is an http: or https: URL. */
export function checkHttpUrl(url: string): void {
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    throw new TrackerError(url, "unsupported", "not a valid URL");
  }
  if (protocol === "udp:") {
    throw new TrackerError(url, "unsupported", "UDP trackers (BEP 15) are not supported yet");
  }
  if (protocol !== "http:" && protocol !== "https:") {
    throw new TrackerError(url, "unsupported", `unsupported tracker scheme ${protocol}`);
  }
}

/** GET with a timeout, an outside abort signal and a body size limit. */
async function trackerGet(
  url: string,
  requestUrl: string,
  options: RequestOptions,
): Promise<Uint8Array> {
  let result;
  try {
    result = await httpGet(requestUrl, {
      signal: options.signal,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      maxBytes: options.maxBytes ?? DEFAULT_MAX_BYTES,
    });
  } catch (e) {
    if (!(e instanceof HttpGetFailure)) throw e;
    const kind = e.kind === "too-large" ? "protocol" : e.kind;
    throw new TrackerError(url, kind, e.message);
  }
  if (!result.ok) {
    // Some trackers send their `failure reason` with a 4xx status: prefer their words.
    const failure = tryFailureReason(result.body);
    if (failure !== undefined) throw new TrackerError(url, "failure", failure);
    throw new TrackerError(url, "http", `HTTP ${result.status} ${result.statusText}`.trim());
  }
  return result.body;
}

function tryFailureReason(body: Uint8Array): string | undefined {
  try {
    const value = decode(body);
    const reason = isDict(value) ? value.get("failure reason") : undefined;
    return isBytes(reason) ? utf8(reason) : undefined;
  } catch {
    return undefined;
  }
}

function decodeDict(url: string, body: Uint8Array): BDict {
  let value: BValue;
  try {
    value = decode(body);
  } catch (e) {
    const start = utf8(body.subarray(0, 40)).replace(/[^\x20-\x7e]/g, "?");
    const why = e instanceof Error ? e.message : String(e);
    throw new TrackerError(url, "protocol", `response is not bencoded (${why}): "${start}"`);
  }
  if (!isDict(value)) throw new TrackerError(url, "protocol", "response is not a dictionary");
  const failure = value.get("failure reason");
  if (failure !== undefined) {
    throw new TrackerError(url, "failure", isBytes(failure) ? utf8(failure) : "failure");
  }
  return value;
}

function optionalInt(url: string, dict: BDict, key: string): number | undefined {
  const v = dict.get(key);
  if (v === undefined) return undefined;
  if (!isInt(v) || v < 0) throw new TrackerError(url, "protocol", `${key} is not a count`);
  return Number(v);
}

/** The original BEP 3 form: a list of {ip, port, peer id} dictionaries. */
function parseDictPeers(list: BValue[]): Peer[] {
  const peers: Peer[] = [];
  for (const item of list) {
    if (!isDict(item)) continue;
    const ip = item.get("ip");
    const port = item.get("port");
    if (!isBytes(ip) || !isInt(port) || port <= 0 || port > 65535) continue;
    const peer: Peer = { hostname: utf8(ip), port: Number(port) };
    const id = item.get("peer id");
    if (isBytes(id) && id.length === 20) peer.peerId = id.slice();
    peers.push(peer);
  }
  return peers;
}
