/**
 * Bencoded tracker responses (BEP 3, 7, 23, 48). The compact announce reply is written by
 * hand into one exactly sized buffer because it is the hot path; the rest use the codec.
 */
import { type Encodable, encode } from "../../bencode/mod.ts";
import { fromBinary, writeDecimal } from "../../util/bytes.ts";
import { formatIp } from "../../util/ip.ts";

/** A swarm's counts as replies carry them (the store's SwarmCounts has this shape). */
export interface ReplyCounts {
  complete: number;
  incomplete: number;
  downloaded: number;
}

/**
 * What an announce reply is written from; the server's AnnounceOutcome has this shape. Peer
 * keys are the 20-byte peer id followed by the compact address, as binary strings.
 */
export interface ReplyOutcome extends ReplyCounts {
  peers: {
    readonly count4: number;
    readonly count6: number;
    /** Writes the IPv4 peers as 6-byte compact entries at `at`; returns the end offset. */
    writeCompact4(out: Uint8Array, at: number): number;
    /** Writes the IPv6 peers as 18-byte compact entries at `at`; returns the end offset. */
    writeCompact6(out: Uint8Array, at: number): number;
    forEach(fn: (peer: { readonly key: string }) => void): void;
  };
}

export interface AnnounceReplyOptions {
  interval: number;
  minInterval: number;
  compact: boolean;
  noPeerId: boolean;
  /**
   * Return a view of a buffer the next reply overwrites instead of a copy: for a caller that
   * copies the bytes out at once (no allocation per announce).
   */
  borrow?: boolean;
}

const PEER_ID_LENGTH = 20;

/**
 * The announce reply. Compact: IPv4 peers as 6-byte entries in `peers` (BEP 23) and IPv6
 * peers as 18-byte entries in `peers6` (BEP 7), which is left out when empty. Otherwise
 * `peers` is a list of `{ip, peer id, port}` dictionaries (`peer id` dropped on no_peer_id).
 */
export function announceReply(outcome: ReplyOutcome, o: AnnounceReplyOptions): Uint8Array {
  if (!o.compact) return dictModelReply(outcome, o);
  const { peers } = outcome;
  const n4 = peers.count4;
  const n6 = peers.count6;
  // Written into one reused buffer, then copied out once: no strings on the hot path.
  const need = n4 * 6 + n6 * 18 + 256;
  if (scratch.length < need) scratch = new Uint8Array(need * 2);
  const out = scratch;
  // Keys in sorted order, as bencode requires.
  let at = writeAscii(out, 0, "d8:completei");
  at = writeInt(out, at, outcome.complete);
  at = writeAscii(out, at, "e10:downloadedi");
  at = writeInt(out, at, outcome.downloaded);
  at = writeAscii(out, at, "e10:incompletei");
  at = writeInt(out, at, outcome.incomplete);
  const intervals = intervalsField(o.interval, o.minInterval);
  out.set(intervals, at);
  at += intervals.length;
  at = writeInt(out, at, n4 * 6);
  out[at++] = 58; // ":"
  at = peers.writeCompact4(out, at);
  if (n6 > 0) {
    at = writeAscii(out, at, "6:peers6");
    at = writeInt(out, at, n6 * 18);
    out[at++] = 58;
    at = peers.writeCompact6(out, at);
  }
  out[at++] = 101; // "e"
  return o.borrow ? out.subarray(0, at) : out.slice(0, at);
}

let scratch = new Uint8Array(4096);

/** `e8:intervali<s>e12:min intervali<s>e5:peers`: the same for every reply of a tracker. */
function intervalsField(interval: number, minInterval: number): Uint8Array {
  if (interval !== intervalsCache.interval || minInterval !== intervalsCache.minInterval) {
    const text = `e8:intervali${interval}e12:min intervali${minInterval}e5:peers`;
    intervalsCache = { interval, minInterval, bytes: new TextEncoder().encode(text) };
  }
  return intervalsCache.bytes;
}
let intervalsCache = { interval: -1, minInterval: -1, bytes: new Uint8Array(0) };

function writeAscii(out: Uint8Array, at: number, text: string): number {
  for (let i = 0; i < text.length; i++) out[at++] = text.charCodeAt(i);
  return at;
}

/** Writes a non-negative integer in decimal. */
function writeInt(out: Uint8Array, at: number, n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) return writeAscii(out, at, String(n));
  return writeDecimal(out, at, n);
}

function dictModelReply(outcome: ReplyOutcome, o: AnnounceReplyOptions): Uint8Array {
  const peers: Encodable[] = [];
  outcome.peers.forEach((p) => {
    const addr = fromBinary(p.key.slice(PEER_ID_LENGTH));
    const ip = addr.subarray(0, addr.length - 2);
    const port = (addr[addr.length - 2]! << 8) | addr[addr.length - 1]!;
    const entry: Record<string, Encodable> = { ip: formatIp(ip), port };
    if (!o.noPeerId) entry["peer id"] = fromBinary(p.key.slice(0, PEER_ID_LENGTH));
    peers.push(entry);
  });
  return encode({
    complete: outcome.complete,
    downloaded: outcome.downloaded,
    incomplete: outcome.incomplete,
    interval: o.interval,
    "min interval": o.minInterval,
    peers,
  });
}

/** `d14:failure reason<n>:<text>e`: every client shows this text to its user. */
export function failureReply(reason: string): Uint8Array {
  return encode({ "failure reason": reason });
}

/** BEP 48 scrape reply: `files` keyed by raw 20-byte info hash (binary strings here). */
export function scrapeReply(files: Iterable<[string, ReplyCounts]>): Uint8Array {
  const dict = new Map<string, Encodable>();
  for (const [infoHash, c] of files) {
    dict.set(infoHash, {
      complete: c.complete,
      downloaded: c.downloaded,
      incomplete: c.incomplete,
    });
  }
  return encode({ files: dict });
}
