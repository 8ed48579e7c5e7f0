/**
 * Announce and scrape query parsing (BEP 3, 7, 23, 48). Works on the RAW query string:
 * `info_hash` and `peer_id` are arbitrary bytes, percent-encoded byte by byte, and decoding
 * them as UTF-8 text (URLSearchParams) would mangle every byte above 0x7f.
 */
import { TrackerRequestError } from "./errors.ts";
import type { AnnounceEvent } from "./types.ts";

/** What a peer tells the tracker. Binary strings hold one char per byte. */
export interface AnnounceRequest {
  /** 20-byte info hash as a binary string (the swarm key). */
  infoHash: string;
  /** 20-byte peer id as a binary string. */
  peerId: string;
  port: number;
  uploaded: number;
  downloaded: number;
  /** Bytes still wanted; -1 when the client did not say (then it is not a seeder). */
  left: number;
  /** Undefined for a regular announce (no `event`, or an empty one). */
  event: AnnounceEvent | undefined;
  /** BEP 23: compact is the default; only `compact=0` asks for the dictionary model. */
  compact: boolean;
  noPeerId: boolean;
  /** As sent; undefined when absent. The tracker core applies the default and the cap. */
  numwant: number | undefined;
  key?: string;
  trackerId?: string;
  /** The `ip` parameter as sent; the app uses it only when configured to. */
  ip?: string;
}

const HEX_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) HEX_VALUE[48 + i] = i;
for (let i = 0; i < 6; i++) HEX_VALUE[65 + i] = HEX_VALUE[97 + i] = 10 + i;

/**
 * Percent-decodes one query value byte by byte into a binary string (one char per byte).
 * `+` is a space, as in every form-encoded query. Undefined when a `%` is not followed by
 * two hex digits or a char is not a single byte.
 */
export function percentDecodeBinary(raw: string): string | undefined {
  if (raw.indexOf("%") < 0 && raw.indexOf("+") < 0) {
    for (let i = 0; i < raw.length; i++) if (raw.charCodeAt(i) > 0x7f) return undefined;
    return raw;
  }
  let out = "";
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 37 /* % */) {
      const hi = HEX_VALUE[raw.charCodeAt(i + 1)] ?? -1;
      const lo = HEX_VALUE[raw.charCodeAt(i + 2)] ?? -1;
      if (hi < 0 || lo < 0) return undefined;
      out += String.fromCharCode((hi << 4) | lo);
      i += 2;
    } else if (c === 43 /* + */) {
      out += " ";
    } else if (c > 0x7f) {
      return undefined;
    } else {
      out += raw[i];
    }
  }
  return out;
}

/** The raw (still percent-encoded) query of a request URL, without the `?`. */
export function rawQuery(url: string): string {
  const q = url.indexOf("?");
  if (q < 0) return "";
  const hash = url.indexOf("#", q);
  return hash < 0 ? url.slice(q + 1) : url.slice(q + 1, hash);
}

/**
 * Splits a raw query into name -> raw values, in order. Names are percent-decoded as text;
 * values are left encoded so binary ones can be decoded byte by byte.
 */
export function splitQuery(query: string): Map<string, string[]> {
  const params = new Map<string, string[]>();
  let start = 0;
  while (start <= query.length) {
    let end = query.indexOf("&", start);
    if (end < 0) end = query.length;
    if (end > start) {
      const eq = query.indexOf("=", start);
      const hasValue = eq >= 0 && eq < end;
      const rawName = query.slice(start, hasValue ? eq : end);
      const value = hasValue ? query.slice(eq + 1, end) : "";
      const name = rawName.indexOf("%") < 0 ? rawName : textOrRaw(rawName);
      const list = params.get(name);
      if (list) list.push(value);
      else params.set(name, [value]);
    }
    start = end + 1;
  }
  return params;
}

function textOrRaw(raw: string): string {
  try {
    return decodeURIComponent(raw.replaceAll("+", " "));
  } catch {
    return raw;
  }
}

function first(params: Map<string, string[]>, name: string): string | undefined {
  return params.get(name)?.[0];
}

/** Decodes a 20-byte binary parameter, failing with a reason a user can act on. */
function twentyBytes(params: Map<string, string[]>, name: string): string {
  const raw = first(params, name);
  if (raw === undefined || raw === "") throw new TrackerRequestError(`missing ${name}`);
  return twentyBytesValue(raw, name);
}

function twentyBytesValue(raw: string, name: string): string {
  const value = percentDecodeBinary(raw);
  if (value === undefined) throw new TrackerRequestError(`invalid ${name}: bad percent-encoding`);
  if (value.length !== 20) {
    throw new TrackerRequestError(`invalid ${name}: must be 20 bytes, got ${value.length}`);
  }
  return value;
}

/** A non-negative decimal integer parameter; `fallback` when absent (undefined = required). */
function counter(
  params: Map<string, string[]>,
  name: string,
  fallback: number | undefined,
): number {
  const raw = optionalCounter(params, name);
  if (raw === undefined) {
    if (fallback === undefined) throw new TrackerRequestError(`missing ${name}`);
    return fallback;
  }
  return raw;
}

/** A non-negative decimal integer parameter, or undefined when absent or empty. */
function optionalCounter(params: Map<string, string[]>, name: string): number | undefined {
  const raw = first(params, name);
  if (raw === undefined || raw === "") return undefined;
  // Digits only: "1e3", "-5", "0x10" and " 7" are all refused, not guessed at.
  if (raw.length > 20 || !/^\d+$/.test(raw)) {
    throw new TrackerRequestError(`invalid ${name}: not a non-negative integer`);
  }
  return Number(raw);
}

/** `paused` is BEP 21's partial-seed event; it updates the peer like a regular announce. */
const EVENTS: ReadonlySet<string> = new Set(["started", "completed", "stopped", "paused"]);

/** Parses and validates an announce query; throws TrackerRequestError on anything wrong. */
export function parseAnnounce(query: string): AnnounceRequest {
  const params = splitQuery(query);
  const infoHash = twentyBytes(params, "info_hash");
  const peerId = twentyBytes(params, "peer_id");
  const port = counter(params, "port", undefined);
  if (port < 1 || port > 65535) {
    throw new TrackerRequestError(`invalid port: must be 1 to 65535, got ${port}`);
  }
  // An empty event is a regular announce, as no event at all.
  const event = first(params, "event") || undefined;
  if (event !== undefined && !EVENTS.has(event)) {
    throw new TrackerRequestError(`invalid event: ${JSON.stringify(event)}`);
  }
  const request: AnnounceRequest = {
    infoHash,
    peerId,
    port,
    uploaded: counter(params, "uploaded", 0),
    downloaded: counter(params, "downloaded", 0),
    left: counter(params, "left", -1),
    event: event as AnnounceEvent | undefined,
    compact: first(params, "compact") !== "0",
    noPeerId: (first(params, "no_peer_id") ?? "0") !== "0",
    numwant: optionalCounter(params, "numwant"),
  };
  const key = first(params, "key");
  if (key !== undefined) request.key = textOrRaw(key);
  const trackerId = first(params, "trackerid");
  if (trackerId !== undefined) request.trackerId = textOrRaw(trackerId);
  const ip = first(params, "ip");
  if (ip !== undefined && ip !== "") request.ip = textOrRaw(ip);
  return request;
}

/** Parses a scrape query: every `info_hash` (BEP 48), as binary strings; may be empty. */
export function parseScrape(query: string): string[] {
  const raws = splitQuery(query).get("info_hash") ?? [];
  return raws.map((raw) => twentyBytesValue(raw, "info_hash"));
}

/** Scratch for decoding a 20-byte value without building a string char by char. */
const TWENTY = new Array<number>(20).fill(0);

/**
 * Decodes url[from, to) as exactly 20 percent-encoded (or plain ASCII) bytes into a binary
 * string; undefined for anything else (the general parser then gives the reason).
 */
function twentyBytesAt(url: string, from: number, to: number): string | undefined {
  let n = 0;
  for (let i = from; i < to; i++) {
    if (n === 20) return undefined;
    const c = url.charCodeAt(i);
    if (c === 37 /* % */) {
      const hi = HEX_VALUE[url.charCodeAt(i + 1)] ?? -1;
      const lo = HEX_VALUE[url.charCodeAt(i + 2)] ?? -1;
      if (hi < 0 || lo < 0 || i + 2 >= to) return undefined;
      TWENTY[n++] = (hi << 4) | lo;
      i += 2;
    } else if (c === 43 /* + */) {
      TWENTY[n++] = 32;
    } else if (c > 0x7f) {
      return undefined;
    } else {
      TWENTY[n++] = c;
    }
  }
  return n === 20 ? String.fromCharCode.apply(null, TWENTY) : undefined;
}

/** url[from, to) as a decimal integer of at most 15 digits (exact in a double), or -1. */
function digitsAt(url: string, from: number, to: number): number {
  if (to <= from || to - from > 15) return -1;
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = url.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

const FAST_EVENTS = ["started", "completed", "stopped", "paused"] as const;

/**
 * The announce fast path: one pass over the URL, no intermediate map or value strings.
 * Handles the ordinary well-formed announce; anything else (a repeated or percent-encoded
 * name, an empty or odd value, a missing field) returns undefined so the general parser
 * decides, with its exact reasons.
 */
function fastAnnounce(url: string, from: number, end: number): AnnounceRequest | undefined {
  let infoHash: string | undefined;
  let peerId: string | undefined;
  let port = -1, uploaded = -1, downloaded = -1, left = -1, numwant = -1;
  let event: AnnounceEvent | undefined;
  let compact: boolean | undefined;
  let noPeerId: boolean | undefined;
  let key: string | undefined;
  let trackerId: string | undefined;
  let ip: string | undefined;
  for (let i = from; i < end;) {
    let amp = url.indexOf("&", i);
    if (amp < 0 || amp > end) amp = end;
    const eq = url.indexOf("=", i);
    if (eq < 0 || eq >= amp - 1) return undefined; // no value or an empty one
    const v = eq + 1;
    const name = eq - i;
    if (name === 9 && url.startsWith("info_hash", i)) {
      if (infoHash !== undefined) return undefined;
      if ((infoHash = twentyBytesAt(url, v, amp)) === undefined) return undefined;
    } else if (name === 7 && url.startsWith("peer_id", i)) {
      if (peerId !== undefined) return undefined;
      if ((peerId = twentyBytesAt(url, v, amp)) === undefined) return undefined;
    } else if (name === 4 && url.startsWith("port", i)) {
      if (port >= 0 || (port = digitsAt(url, v, amp)) < 0) return undefined;
    } else if (name === 8 && url.startsWith("uploaded", i)) {
      if (uploaded >= 0 || (uploaded = digitsAt(url, v, amp)) < 0) return undefined;
    } else if (name === 10 && url.startsWith("downloaded", i)) {
      if (downloaded >= 0 || (downloaded = digitsAt(url, v, amp)) < 0) return undefined;
    } else if (name === 4 && url.startsWith("left", i)) {
      if (left >= 0 || (left = digitsAt(url, v, amp)) < 0) return undefined;
    } else if (name === 7 && url.startsWith("numwant", i)) {
      if (numwant >= 0 || (numwant = digitsAt(url, v, amp)) < 0) return undefined;
    } else if (name === 5 && url.startsWith("event", i)) {
      if (event !== undefined) return undefined;
      for (const e of FAST_EVENTS) if (e.length === amp - v && url.startsWith(e, v)) event = e;
      if (event === undefined) return undefined;
    } else if (name === 7 && url.startsWith("compact", i)) {
      if (compact !== undefined) return undefined;
      compact = !(amp - v === 1 && url.charCodeAt(v) === 48);
    } else if (name === 10 && url.startsWith("no_peer_id", i)) {
      if (noPeerId !== undefined) return undefined;
      noPeerId = !(amp - v === 1 && url.charCodeAt(v) === 48);
    } else if (name === 3 && url.startsWith("key", i)) {
      if (key !== undefined) return undefined;
      key = textOrRaw(url.slice(v, amp));
    } else if (name === 9 && url.startsWith("trackerid", i)) {
      if (trackerId !== undefined) return undefined;
      trackerId = textOrRaw(url.slice(v, amp));
    } else if (name === 2 && url.startsWith("ip", i)) {
      if (ip !== undefined) return undefined;
      ip = textOrRaw(url.slice(v, amp));
    } else {
      // Another parameter: ignored, unless its name is encoded and might decode to ours.
      for (let k = i; k < eq; k++) {
        const c = url.charCodeAt(k);
        if (c === 37 || c === 43) return undefined;
      }
    }
    i = amp + 1;
  }
  if (infoHash === undefined || peerId === undefined || port < 1 || port > 65535) return undefined;
  const request: AnnounceRequest = {
    infoHash,
    peerId,
    port,
    uploaded: uploaded < 0 ? 0 : uploaded,
    downloaded: downloaded < 0 ? 0 : downloaded,
    left,
    event,
    compact: compact ?? true,
    noPeerId: noPeerId ?? false,
    numwant: numwant < 0 ? undefined : numwant,
  };
  if (key !== undefined) request.key = key;
  if (trackerId !== undefined) request.trackerId = trackerId;
  if (ip !== undefined) request.ip = ip;
  return request;
}

/**
 * Parses the announce in a full request URL: {@link parseAnnounce} of its query, through a
 * single-pass fast path for ordinary announces. Throws TrackerRequestError like it.
 */
export function parseAnnounceUrl(url: string): AnnounceRequest {
  const q = url.indexOf("?");
  if (q >= 0) {
    let end = url.indexOf("#", q);
    if (end < 0) end = url.length;
    const request = fastAnnounce(url, q + 1, end);
    if (request) return request;
  }
  return parseAnnounce(rawQuery(url));
}
