/**
 * Bencoded tracker responses (BEP 3, 7, 23, 48). The compact announce reply is written by
 * hand into one exactly sized buffer because it is the hot path; the rest use the codec.
 */
import { type Encodable, encode } from "../bencode/mod.ts";
import { fromBinary } from "../util/bytes.ts";
import { formatIp } from "./ip.ts";
import type { AnnounceOutcome, SwarmCounts } from "./store.ts";

export interface AnnounceReplyOptions {
  interval: number;
  minInterval: number;
  compact: boolean;
  noPeerId: boolean;
}

const PEER_ID_LENGTH = 20;

/**
 * The announce reply. Compact: IPv4 peers as 6-byte entries in `peers` (BEP 23) and IPv6
 * peers as 18-byte entries in `peers6` (BEP 7), which is left out when empty. Otherwise
 * `peers` is a list of `{ip, peer id, port}` dictionaries (`peer id` dropped on no_peer_id).
 */
export function announceReply(outcome: AnnounceOutcome, o: AnnounceReplyOptions): Uint8Array {
  if (!o.compact) return dictModelReply(outcome, o);
  const { peers } = outcome;
  const n4 = peers.count4;
  const n6 = peers.count6;
  // Keys in sorted order, as bencode requires.
  const head = `d8:completei${outcome.complete}e10:downloadedi${outcome.downloaded}e` +
    `10:incompletei${outcome.incomplete}e8:intervali${o.interval}e` +
    `12:min intervali${o.minInterval}e5:peers${n4 * 6}:`;
  const mid = n6 > 0 ? `6:peers6${n6 * 18}:` : "";
  const out = new Uint8Array(head.length + n4 * 6 + mid.length + n6 * 18 + 1);
  let at = peers.writeCompact4(out, writeAscii(out, 0, head));
  if (n6 > 0) at = peers.writeCompact6(out, writeAscii(out, at, mid));
  out[at] = 101; // "e"
  return out;
}

function writeAscii(out: Uint8Array, at: number, text: string): number {
  for (let i = 0; i < text.length; i++) out[at++] = text.charCodeAt(i);
  return at;
}

function dictModelReply(outcome: AnnounceOutcome, o: AnnounceReplyOptions): Uint8Array {
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
export function scrapeReply(files: Iterable<[string, SwarmCounts]>): Uint8Array {
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
