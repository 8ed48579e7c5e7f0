/**
 * UDP tracker requests (BEP 15, options of BEP 41): the client encodes them, the server parses
 * them. Pure functions over bytes; import them from `udp.ts`.
 * @module
 */
import { concat, utf8, utf8Bytes } from "../../util/bytes.ts";
import type { AnnounceEvent } from "./types.ts";
import {
  ANNOUNCE_REQUEST_SIZE,
  checkConnectionId,
  checkHash,
  checkInt,
  checkU32,
  eventName,
  eventNumber,
  MAX_SCRAPE_HASHES,
  OPTION_END,
  OPTION_NOP,
  OPTION_URL_DATA,
  readI32,
  readU16,
  readU32,
  readU64Clamped,
  UDP_ACTIONS,
  UDP_PROTOCOL_ID_HI,
  UDP_PROTOCOL_ID_LO,
  writeBigU64,
  writeU32,
  writeU64,
} from "./udp_wire.ts";

// ---------------------------------------------------------------------------------------------
// Client side: encoding.

/** connect request: protocol_id (8) | action 0 (4) | transaction_id (4). */
export function encodeConnectRequest(transactionId: number): Uint8Array {
  checkU32("transactionId", transactionId);
  const out = new Uint8Array(16);
  writeU32(out, 0, UDP_PROTOCOL_ID_HI);
  writeU32(out, 4, UDP_PROTOCOL_ID_LO);
  writeU32(out, 8, UDP_ACTIONS.connect);
  writeU32(out, 12, transactionId);
  return out;
}

/** What a client puts in an announce request. */
export interface UdpAnnounceRequestFields {
  /** From the connect response: 8 opaque bytes. */
  connectionId: bigint;
  transactionId: number;
  /** 20 bytes. */
  infoHash: Uint8Array;
  /** 20 bytes. */
  peerId: Uint8Array;
  /** Byte counters: non-negative safe integers, 64 bits on the wire. */
  downloaded: number;
  left: number;
  uploaded: number;
  /** Absent for a regular announce. */
  event?: AnnounceEvent | undefined;
  /** The 4-byte IPv4 `IP address` field; absent = 0, "use the packet's source address". */
  ip?: Uint8Array | undefined;
  /** Same key for the IPv4 and IPv6 announces of one client (BEP 15). */
  key: number;
  /** -1 (the default) lets the tracker choose. */
  numwant?: number | undefined;
  port: number;
  /**
   * BEP 41 URLData: the PATH and QUERY of the tracker URL (`/dir?a=b&c=d`), sent as UTF-8 in
   * options of at most 255 bytes each, then EndOfOptions. "" sends one empty URLData option
   * ("supported, but the URL had none"); absent sends no options at all.
   */
  urlData?: string | undefined;
}

/**
 * announce request, BEP 15 offsets: connection_id 0 | action 8 | transaction_id 12 |
 * info_hash 16 | peer_id 36 | downloaded 56 | left 64 | uploaded 72 | event 80 | IP 84 |
 * key 88 | num_want 92 | port 96 | BEP 41 options from 98.
 * @throws {RangeError} on a field out of its range (a bug in the caller, not bad input).
 */
export function encodeAnnounceRequest(r: UdpAnnounceRequestFields): Uint8Array {
  checkConnectionId(r.connectionId);
  checkU32("transactionId", r.transactionId);
  checkHash("infoHash", r.infoHash);
  checkHash("peerId", r.peerId);
  checkInt("downloaded", r.downloaded, 0, Number.MAX_SAFE_INTEGER);
  checkInt("left", r.left, 0, Number.MAX_SAFE_INTEGER);
  checkInt("uploaded", r.uploaded, 0, Number.MAX_SAFE_INTEGER);
  if (r.ip !== undefined && r.ip.length !== 4) {
    throw new RangeError(`ip must be 4 bytes (IPv4), got ${r.ip.length}`);
  }
  checkU32("key", r.key);
  const numwant = r.numwant ?? -1;
  checkInt("numwant", numwant, -0x8000_0000, 0x7fff_ffff);
  checkInt("port", r.port, 0, 0xffff);
  const url = r.urlData === undefined ? undefined : utf8Bytes(r.urlData);
  const chunks = url === undefined ? 0 : Math.max(1, Math.ceil(url.length / 255));
  const out = new Uint8Array(
    ANNOUNCE_REQUEST_SIZE + (url === undefined ? 0 : chunks * 2 + url.length + 1),
  );
  writeBigU64(out, 0, r.connectionId);
  writeU32(out, 8, UDP_ACTIONS.announce);
  writeU32(out, 12, r.transactionId);
  out.set(r.infoHash, 16);
  out.set(r.peerId, 36);
  writeU64(out, 56, r.downloaded);
  writeU64(out, 64, r.left);
  writeU64(out, 72, r.uploaded);
  writeU32(out, 80, eventNumber(r.event));
  if (r.ip !== undefined) out.set(r.ip, 84);
  writeU32(out, 88, r.key);
  writeU32(out, 92, numwant);
  out[96] = r.port >> 8;
  out[97] = r.port & 0xff;
  if (url !== undefined) {
    let at = ANNOUNCE_REQUEST_SIZE;
    for (let i = 0; i < chunks; i++) {
      const chunk = url.subarray(i * 255, i * 255 + 255);
      out[at] = OPTION_URL_DATA;
      out[at + 1] = chunk.length;
      out.set(chunk, at + 2);
      at += 2 + chunk.length;
    }
    out[at] = OPTION_END;
  }
  return out;
}

/**
 * scrape request: connection_id 0 | action 8 | transaction_id 12 | info_hash 16 + 20 * n.
 * @throws {RangeError} with more than {@link MAX_SCRAPE_HASHES} hashes or one not of 20 bytes.
 */
export function encodeScrapeRequest(
  connectionId: bigint,
  transactionId: number,
  infoHashes: readonly Uint8Array[],
): Uint8Array {
  checkConnectionId(connectionId);
  checkU32("transactionId", transactionId);
  if (infoHashes.length > MAX_SCRAPE_HASHES) {
    throw new RangeError(
      `a UDP scrape takes at most ${MAX_SCRAPE_HASHES} info hashes, got ${infoHashes.length}`,
    );
  }
  const out = new Uint8Array(16 + 20 * infoHashes.length);
  writeBigU64(out, 0, connectionId);
  writeU32(out, 8, UDP_ACTIONS.scrape);
  writeU32(out, 12, transactionId);
  infoHashes.forEach((hash, i) => {
    checkHash("infoHash", hash);
    out.set(hash, 16 + 20 * i);
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Server side: parsing.

/**
 * The connection id of a request as its two big-endian u32 halves. A server checks it on every
 * announce, so it stays two small integers: no BigInt to allocate, and a SYN-cookie style id
 * (say, a time slot in `hi` and a keyed hash of address, port and slot in `lo`) is checked
 * with plain number arithmetic. `(BigInt(hi) << 32n) | BigInt(lo)` is the client's bigint.
 */
export interface UdpConnectionIdHalves {
  connectionIdHi: number;
  connectionIdLo: number;
}

export interface UdpConnectRequest {
  action: "connect";
  transactionId: number;
}

/**
 * A parsed announce. The byte fields are views into the packet (no copy): copy them before the
 * receive buffer is reused.
 */
export interface UdpAnnounceRequest extends UdpConnectionIdHalves {
  action: "announce";
  transactionId: number;
  infoHash: Uint8Array;
  peerId: Uint8Array;
  /** 64-bit counters, clamped to `Number.MAX_SAFE_INTEGER` from 2^53 up (never refused). */
  downloaded: number;
  left: number;
  uploaded: number;
  /** undefined: a regular announce (event 0). */
  event: AnnounceEvent | undefined;
  /** The 4-byte `IP address` field; undefined when 0 (the default). */
  ip: Uint8Array | undefined;
  key: number;
  /** Signed: -1 is "tracker's choice"; capping it is the server's business. */
  numwant: number;
  /** As sent, 0 included: refusing it is the server's business. */
  port: number;
  /** BEP 41 URLData options, concatenated and decoded as UTF-8; absent when none was sent. */
  urlData?: string;
}

/** A parsed scrape: at most the first {@link MAX_SCRAPE_HASHES} hashes, views into the packet. */
export interface UdpScrapeRequest extends UdpConnectionIdHalves {
  action: "scrape";
  transactionId: number;
  infoHashes: Uint8Array[];
}

/** What a server can act on. */
export type UdpRequest = UdpConnectRequest | UdpAnnounceRequest | UdpScrapeRequest;

/** Why a request with a readable header is refused; short, as it goes back in the error packet. */
export type UdpRequestProblem = "unknown action" | "truncated announce" | "unknown event";

/**
 * A request the server should answer with `encodeErrorResponse(transactionId, error)`, but,
 * like any request but connect, only once the connection id checks out: that keeps spoofed
 * packets (and two servers bouncing error packets at each other) from getting answers.
 */
export interface UdpInvalidRequest extends UdpConnectionIdHalves {
  action: "invalid";
  transactionId: number;
  error: UdpRequestProblem;
}

/**
 * Parses a datagram a client sent to the tracker. Never throws and never reads past the end.
 * - `undefined`: drop it silently. It is shorter than the 16-byte header (no transaction id to
 *   answer), or a connect without BEP 15's protocol id (not this protocol at all).
 * - `action: "invalid"`: an unknown action, an announce shorter than 98 bytes or with an event
 *   number beyond 4; answer with an error packet (see {@link UdpInvalidRequest}).
 * - otherwise the request. Bytes past a request's fields are ignored (BEP 15: "do not expect
 *   packets to be exactly of a certain size"), except BEP 41 options after an announce.
 *   A scrape keeps its first 74 hashes and ignores a trailing partial hash; it may have none.
 */
export function parseUdpRequest(packet: Uint8Array): UdpRequest | UdpInvalidRequest | undefined {
  if (packet.length < 16) return undefined;
  const connectionIdHi = readU32(packet, 0);
  const connectionIdLo = readU32(packet, 4);
  const action = readU32(packet, 8);
  const transactionId = readU32(packet, 12);
  switch (action) {
    case UDP_ACTIONS.connect:
      if (connectionIdHi !== UDP_PROTOCOL_ID_HI || connectionIdLo !== UDP_PROTOCOL_ID_LO) {
        return undefined;
      }
      return { action: "connect", transactionId };
    case UDP_ACTIONS.announce: {
      if (packet.length < ANNOUNCE_REQUEST_SIZE) {
        return invalid(connectionIdHi, connectionIdLo, transactionId, "truncated announce");
      }
      const event = eventName(readU32(packet, 80));
      if (event === null) {
        return invalid(connectionIdHi, connectionIdLo, transactionId, "unknown event");
      }
      const ip = readU32(packet, 84) === 0 ? undefined : packet.subarray(84, 88);
      const request: UdpAnnounceRequest = {
        action: "announce",
        connectionIdHi,
        connectionIdLo,
        transactionId,
        infoHash: packet.subarray(16, 36),
        peerId: packet.subarray(36, 56),
        downloaded: readU64Clamped(packet, 56),
        left: readU64Clamped(packet, 64),
        uploaded: readU64Clamped(packet, 72),
        event,
        ip,
        key: readU32(packet, 88),
        numwant: readI32(packet, 92),
        port: readU16(packet, 96),
      };
      if (packet.length > ANNOUNCE_REQUEST_SIZE) {
        const urlData = parseUrlData(packet);
        if (urlData !== undefined) request.urlData = urlData;
      }
      return request;
    }
    case UDP_ACTIONS.scrape: {
      const n = Math.min(Math.floor((packet.length - 16) / 20), MAX_SCRAPE_HASHES);
      const infoHashes = new Array<Uint8Array>(n);
      for (let i = 0; i < n; i++) infoHashes[i] = packet.subarray(16 + 20 * i, 36 + 20 * i);
      return { action: "scrape", connectionIdHi, connectionIdLo, transactionId, infoHashes };
    }
    default:
      return invalid(connectionIdHi, connectionIdLo, transactionId, "unknown action");
  }
}

function invalid(
  connectionIdHi: number,
  connectionIdLo: number,
  transactionId: number,
  error: UdpRequestProblem,
): UdpInvalidRequest {
  return { action: "invalid", connectionIdHi, connectionIdLo, transactionId, error };
}

/**
 * BEP 41: options from byte 98 until EndOfOptions or the end of the packet. NOP is skipped,
 * URLData chunks are concatenated, and any other type >= 2 is skipped by its length byte (that
 * is what the length byte is for). A truncated option (no length byte, or data past the end)
 * ends parsing: the chunks before it are kept, nothing is read past the end.
 */
function parseUrlData(packet: Uint8Array): string | undefined {
  let first: Uint8Array | undefined;
  let all: Uint8Array[] | undefined;
  let at = ANNOUNCE_REQUEST_SIZE;
  while (at < packet.length) {
    const type = packet[at]!;
    if (type === OPTION_END) break;
    if (type === OPTION_NOP) {
      at++;
      continue;
    }
    if (at + 1 >= packet.length) break;
    const end = at + 2 + packet[at + 1]!;
    if (end > packet.length) break;
    if (type === OPTION_URL_DATA) {
      const chunk = packet.subarray(at + 2, end);
      if (first === undefined) first = chunk;
      else (all ??= [first]).push(chunk);
    }
    at = end;
  }
  if (first === undefined) return undefined;
  return utf8(all === undefined ? first : concat(all));
}
