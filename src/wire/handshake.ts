import { equals } from "../util/bytes.ts";
import { WireError } from "./errors.ts";

/** The BEP 3 handshake is always exactly this long: 1 + 19 + 8 + 20 + 20 bytes. */
export const HANDSHAKE_LENGTH = 68;

/**
 * The part of the handshake before the peer id (pstrlen, pstr, reserved, info hash). A
 * receiver serving several torrents reads this much first, routes on the info hash, and only
 * then answers, as BEP 3 allows.
 */
export const HANDSHAKE_START_LENGTH = 48;

const PSTR = new TextEncoder().encode("BitTorrent protocol");

// Reserved-bit positions: BEP 10 is the 20th bit from the right (reserved[5] & 0x10),
// BEP 6 is the 3rd bit from the right (reserved[7] & 0x04).
const EXTENDED_BYTE = 5, EXTENDED_MASK = 0x10;
const FAST_BYTE = 7, FAST_MASK = 0x04;

/** What we announce in our handshake. */
export interface HandshakeOptions {
  /** 20-byte SHA-1 of the info dictionary. */
  infoHash: Uint8Array;
  /** Our 20-byte peer id. */
  peerId: Uint8Array;
  /** Set the BEP 10 extension-protocol bit. */
  extended?: boolean;
  /** Set the BEP 6 fast-extension bit. */
  fast?: boolean;
}

/** The handshake up to (not including) the peer id. */
export interface HandshakeStart {
  /** The 8 reserved bytes as sent (other extension bits are kept for the curious). */
  reserved: Uint8Array;
  infoHash: Uint8Array;
  /** The peer supports BEP 10 extension messages. */
  extended: boolean;
  /** The peer supports the BEP 6 fast extension. */
  fast: boolean;
}

/** A complete decoded handshake. */
export interface Handshake extends HandshakeStart {
  peerId: Uint8Array;
}

/**
 * Encodes the 68-byte BEP 3 handshake.
 * @throws {RangeError} if the info hash or peer id is not 20 bytes (a programming error).
 */
export function encodeHandshake(options: HandshakeOptions): Uint8Array {
  checkId("infoHash", options.infoHash);
  checkId("peerId", options.peerId);
  const out = new Uint8Array(HANDSHAKE_LENGTH);
  out[0] = PSTR.length;
  out.set(PSTR, 1);
  if (options.extended) out[1 + 19 + EXTENDED_BYTE] = EXTENDED_MASK;
  if (options.fast) out[1 + 19 + FAST_BYTE]! |= FAST_MASK;
  out.set(options.infoHash, 28);
  out.set(options.peerId, 48);
  return out;
}

/**
 * Decodes the first 48 bytes of a handshake (everything before the peer id). The returned
 * arrays are copies, so `bytes` may be reused.
 * @throws {WireError} if the length or protocol string is wrong.
 */
export function decodeHandshakeStart(bytes: Uint8Array): HandshakeStart {
  if (bytes.length < HANDSHAKE_START_LENGTH) {
    throw new WireError(`handshake too short: ${bytes.length} bytes`);
  }
  if (bytes[0] !== PSTR.length || !equals(bytes.subarray(1, 20), PSTR)) {
    // Typically an encrypted (MSE) or non-BitTorrent connection.
    throw new WireError("handshake does not start with 19 'BitTorrent protocol'");
  }
  const reserved = bytes.slice(20, 28);
  return {
    reserved,
    infoHash: bytes.slice(28, 48),
    extended: (reserved[EXTENDED_BYTE]! & EXTENDED_MASK) !== 0,
    fast: (reserved[FAST_BYTE]! & FAST_MASK) !== 0,
  };
}

/**
 * Decodes a complete 68-byte handshake. The returned arrays are copies.
 * @throws {WireError} if `bytes` is not exactly 68 bytes or the protocol string is wrong.
 */
export function decodeHandshake(bytes: Uint8Array): Handshake {
  if (bytes.length !== HANDSHAKE_LENGTH) {
    throw new WireError(`handshake must be ${HANDSHAKE_LENGTH} bytes, got ${bytes.length}`);
  }
  return { ...decodeHandshakeStart(bytes), peerId: bytes.slice(48, 68) };
}

function checkId(what: string, id: Uint8Array) {
  if (id.length !== 20) throw new RangeError(`${what} must be 20 bytes, got ${id.length}`);
}
