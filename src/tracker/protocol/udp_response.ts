/**
 * UDP tracker responses (BEP 15): the server encodes them, the client parses them. Pure
 * functions over bytes; import them from `udp.ts`.
 * @module
 */
import { utf8, utf8Bytes } from "../../util/bytes.ts";
import { parseCompactPeers } from "../../util/compact.ts";
import type { PeerAddress } from "../../util/ip.ts";
import { TrackerError } from "./errors.ts";
import {
  ANNOUNCE_RESPONSE_HEADER_SIZE,
  checkU32,
  readBigU64,
  readU32,
  saturateU32,
  UDP_ACTIONS,
  type UdpActionName,
  writeU32,
} from "./udp_wire.ts";

// ---------------------------------------------------------------------------------------------
// Server side: encoding. Counts and intervals saturate at 2^32 - 1 rather than wrap.

/**
 * connect response: action 0 | transaction_id 4 | connection_id 8 (as two u32 halves, see
 * `UdpConnectionIdHalves`).
 */
export function encodeConnectResponse(
  transactionId: number,
  connectionIdHi: number,
  connectionIdLo: number,
): Uint8Array {
  checkU32("transactionId", transactionId);
  checkU32("connectionIdHi", connectionIdHi);
  checkU32("connectionIdLo", connectionIdLo);
  const out = new Uint8Array(16);
  writeU32(out, 0, UDP_ACTIONS.connect);
  writeU32(out, 4, transactionId);
  writeU32(out, 8, connectionIdHi);
  writeU32(out, 12, connectionIdLo);
  return out;
}

/** The fixed part of an announce response. */
export interface UdpAnnounceResponseHeader {
  transactionId: number;
  /** Seconds until the next regular announce. */
  interval: number;
  leechers: number;
  seeders: number;
}

export interface UdpAnnounceResponseFields extends UdpAnnounceResponseHeader {
  /**
   * Compact peers, already packed: 6 bytes each (4 address + 2 port) to a client that came
   * over IPv4, 18 bytes each (16 + 2) to one that came over IPv6. BEP 15 picks the format by
   * the address family of the UDP packet, so one response never mixes them.
   */
  peers: Uint8Array;
}

/**
 * Writes announce response bytes 0 to 20: action 1 | transaction_id 4 | interval 8 |
 * leechers 12 | seeders 16. Returns 20, where the peers go: a server can write them straight
 * into `out` (e.g. a peer sample's `writeCompact4(out, 20)`) and send `out.subarray(0, end)`.
 */
export function writeAnnounceResponseHeader(
  out: Uint8Array,
  h: UdpAnnounceResponseHeader,
): number {
  checkU32("transactionId", h.transactionId);
  if (out.length < ANNOUNCE_RESPONSE_HEADER_SIZE) {
    throw new RangeError(`announce response needs 20 bytes, buffer has ${out.length}`);
  }
  writeU32(out, 0, UDP_ACTIONS.announce);
  writeU32(out, 4, h.transactionId);
  writeU32(out, 8, saturateU32(h.interval));
  writeU32(out, 12, saturateU32(h.leechers));
  writeU32(out, 16, saturateU32(h.seeders));
  return ANNOUNCE_RESPONSE_HEADER_SIZE;
}

/**
 * Writes a whole announce response into `out` from offset 0, allocating nothing; returns its
 * length (send `out.subarray(0, length)`).
 * @throws {RangeError} when `out` is too small.
 */
export function writeAnnounceResponse(out: Uint8Array, r: UdpAnnounceResponseFields): number {
  const length = ANNOUNCE_RESPONSE_HEADER_SIZE + r.peers.length;
  if (out.length < length) {
    throw new RangeError(`announce response needs ${length} bytes, buffer has ${out.length}`);
  }
  writeAnnounceResponseHeader(out, r);
  out.set(r.peers, ANNOUNCE_RESPONSE_HEADER_SIZE);
  return length;
}

/** {@link writeAnnounceResponse} into a new, exactly sized buffer. */
export function encodeAnnounceResponse(r: UdpAnnounceResponseFields): Uint8Array {
  const out = new Uint8Array(ANNOUNCE_RESPONSE_HEADER_SIZE + r.peers.length);
  writeAnnounceResponse(out, r);
  return out;
}

/** One torrent of a scrape response, in the order of the request's hashes. */
export interface UdpScrapeCounts {
  seeders: number;
  /** Times the torrent was downloaded in full (`downloaded` in an HTTP scrape). */
  completed: number;
  leechers: number;
}

/** scrape response: action 2 | transaction_id 4 | seeders, completed, leechers at 8 + 12 * n. */
export function encodeScrapeResponse(
  transactionId: number,
  counts: readonly UdpScrapeCounts[],
): Uint8Array {
  checkU32("transactionId", transactionId);
  const out = new Uint8Array(8 + 12 * counts.length);
  writeU32(out, 0, UDP_ACTIONS.scrape);
  writeU32(out, 4, transactionId);
  let at = 8;
  for (const c of counts) {
    writeU32(out, at, saturateU32(c.seeders));
    writeU32(out, at + 4, saturateU32(c.completed));
    writeU32(out, at + 8, saturateU32(c.leechers));
    at += 12;
  }
  return out;
}

/** error response: action 3 | transaction_id 4 | message (UTF-8, to the end of the packet). */
export function encodeErrorResponse(transactionId: number, message: string): Uint8Array {
  checkU32("transactionId", transactionId);
  const text = utf8Bytes(message);
  const out = new Uint8Array(8 + text.length);
  writeU32(out, 0, UDP_ACTIONS.error);
  writeU32(out, 4, transactionId);
  out.set(text, 8);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Client side: parsing.

/** What the client is waiting for. */
export interface UdpResponseExpectation {
  transactionId: number;
  action: Exclude<UdpActionName, "error">;
  /** The tracker was reached over IPv6: peers are 18-byte entries instead of 6 (BEP 15). */
  ipv6?: boolean | undefined;
  /** The tracker's URL, only to name it in a thrown TrackerError. */
  url?: string | undefined;
}

export interface UdpConnectResponse {
  action: "connect";
  /** Opaque; sent back as is in every announce and scrape. */
  connectionId: bigint;
}

export interface UdpAnnounceResponse {
  action: "announce";
  interval: number;
  leechers: number;
  seeders: number;
  /** Entries with port 0 are left out (nobody listens there). */
  peers: PeerAddress[];
}

export interface UdpScrapeResponse {
  action: "scrape";
  /** One per torrent, in the order of the request's hashes (the caller checks the count). */
  entries: UdpScrapeCounts[];
}

/** The tracker refused; `message` is its own words, for the user. */
export interface UdpErrorResponse {
  action: "error";
  message: string;
}

export type UdpResponse =
  | UdpConnectResponse
  | UdpAnnounceResponse
  | UdpScrapeResponse
  | UdpErrorResponse;

/**
 * Parses a datagram from the tracker against the request it should answer.
 * - `undefined`: not an answer to that request (another transaction id, or shorter than the
 *   8 bytes that hold one); the caller ignores it and keeps waiting. Off-path junk thus can
 *   never fail a request: it would have to guess the 32-bit transaction id.
 * - an error response (action 3) for any request, as `action: "error"`.
 * - otherwise the expected response. BEP 15's minimum sizes are enforced (connect 16,
 *   announce 20); bytes after a connect response are ignored.
 * @throws {TrackerError} kind "protocol" when an answer with our transaction id is malformed:
 *   another action, too short, or a peer list (announce) or entry list (scrape) that is not a
 *   whole number of entries (e.g. 18-byte peers from a tracker reached over IPv4).
 */
export function parseUdpResponse(
  packet: Uint8Array,
  expected: UdpResponseExpectation,
): UdpResponse | undefined {
  if (packet.length < 8 || readU32(packet, 4) !== expected.transactionId >>> 0) return undefined;
  const action = readU32(packet, 0);
  if (action === UDP_ACTIONS.error) return { action: "error", message: errorMessage(packet) };
  const fail = (reason: string) => new TrackerError(expected.url ?? "", "protocol", reason);
  if (action !== UDP_ACTIONS[expected.action]) {
    throw fail(`UDP tracker answered a ${expected.action} with action ${action}`);
  }
  switch (expected.action) {
    case "connect":
      if (packet.length < 16) {
        throw fail(`UDP connect response of ${packet.length} bytes, expected 16`);
      }
      return { action: "connect", connectionId: readBigU64(packet, 8) };
    case "announce": {
      const stride = expected.ipv6 ? 18 : 6;
      const peerBytes = packet.length - ANNOUNCE_RESPONSE_HEADER_SIZE;
      if (peerBytes < 0 || peerBytes % stride !== 0) {
        throw fail(
          `UDP announce response of ${packet.length} bytes is not 20 + ${stride} * n bytes`,
        );
      }
      return {
        action: "announce",
        interval: readU32(packet, 8),
        leechers: readU32(packet, 12),
        seeders: readU32(packet, 16),
        peers: parseCompactPeers(packet.subarray(ANNOUNCE_RESPONSE_HEADER_SIZE), stride),
      };
    }
    case "scrape": {
      if ((packet.length - 8) % 12 !== 0) {
        throw fail(`UDP scrape response of ${packet.length} bytes is not 8 + 12 * n bytes`);
      }
      const entries: UdpScrapeCounts[] = [];
      for (let at = 8; at < packet.length; at += 12) {
        entries.push({
          seeders: readU32(packet, at),
          completed: readU32(packet, at + 4),
          leechers: readU32(packet, at + 8),
        });
      }
      return { action: "scrape", entries };
    }
  }
}

/** The message of an error packet; trailing NULs (C trackers) are dropped. */
function errorMessage(packet: Uint8Array): string {
  let end = packet.length;
  while (end > 8 && packet[end - 1] === 0) end--;
  return utf8(packet.subarray(8, end));
}
