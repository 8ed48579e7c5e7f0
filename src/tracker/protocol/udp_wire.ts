/**
 * BEP 15 constants and the big-endian integer fields every UDP tracker packet is made of.
 * Shared by `udp_request.ts` and `udp_response.ts`; import the public API from `udp.ts`.
 * @module
 */
import type { AnnounceEvent } from "./types.ts";

/** The magic connection id of every connect request (BEP 15). */
export const UDP_PROTOCOL_ID = 0x41727101980n;
/** {@link UDP_PROTOCOL_ID} as two u32 halves, the form the parsers compare. */
export const UDP_PROTOCOL_ID_HI = 0x417;
export const UDP_PROTOCOL_ID_LO = 0x27101980;

/** The `action` field of every packet, both directions. */
export const UDP_ACTIONS = { connect: 0, announce: 1, scrape: 2, error: 3 } as const;
export type UdpActionName = keyof typeof UDP_ACTIONS;

/**
 * The `event` field of an announce. BEP 15 defines 0 to 3; 4 (`paused`, BEP 21's partial seed)
 * is what libtorrent sends, so it is understood both ways.
 */
export const UDP_EVENTS = { none: 0, completed: 1, started: 2, stopped: 3, paused: 4 } as const;

/** `event` numbers by {@link AnnounceEvent}; `undefined` (a regular announce) is 0. */
export function eventNumber(event: AnnounceEvent | undefined): number {
  return event === undefined ? UDP_EVENTS.none : UDP_EVENTS[event];
}

const EVENT_NAMES: readonly (AnnounceEvent | undefined)[] = [
  undefined,
  "completed",
  "started",
  "stopped",
  "paused",
];

/** The event of an `event` number; `null` when the number is none BEP 15 (or BEP 21) knows. */
export function eventName(n: number): AnnounceEvent | undefined | null {
  return n < EVENT_NAMES.length ? EVENT_NAMES[n] : null;
}

/** "About 74" in BEP 15: 16 + 74 * 20 bytes still fit in a 1500-byte Ethernet frame. */
export const MAX_SCRAPE_HASHES = 74;
/** Bytes of a BEP 15 announce request; BEP 41 options start at this offset. */
export const ANNOUNCE_REQUEST_SIZE = 98;
/** Bytes of an announce response before its peers. */
export const ANNOUNCE_RESPONSE_HEADER_SIZE = 20;

/** BEP 41 option types. Types >= 2 are followed by a length byte, 0 and 1 never are. */
export const OPTION_END = 0;
export const OPTION_NOP = 1;
export const OPTION_URL_DATA = 2;

export function readU32(p: Uint8Array, at: number): number {
  return ((p[at]! << 24) | (p[at + 1]! << 16) | (p[at + 2]! << 8) | p[at + 3]!) >>> 0;
}

export function readI32(p: Uint8Array, at: number): number {
  return (p[at]! << 24) | (p[at + 1]! << 16) | (p[at + 2]! << 8) | p[at + 3]!;
}

export function readU16(p: Uint8Array, at: number): number {
  return (p[at]! << 8) | p[at + 1]!;
}

/**
 * A 64-bit counter as a number. Values from 2^53 up (which no real transfer reaches, but which
 * a client may send as "unknown", e.g. -1 as 0xffffffffffffffff) are clamped to
 * `Number.MAX_SAFE_INTEGER`: still exact, still "not zero", so a seeder test stays right.
 */
export function readU64Clamped(p: Uint8Array, at: number): number {
  const hi = readU32(p, at);
  return hi >= 0x200000 ? Number.MAX_SAFE_INTEGER : hi * 0x1_0000_0000 + readU32(p, at + 4);
}

/** Writes the low 32 bits of `v`; callers check the range first where it matters. */
export function writeU32(out: Uint8Array, at: number, v: number): void {
  out[at] = v >>> 24;
  out[at + 1] = v >>> 16;
  out[at + 2] = v >>> 8;
  out[at + 3] = v;
}

/** Writes a non-negative safe integer as 64 bits. */
export function writeU64(out: Uint8Array, at: number, v: number): void {
  writeU32(out, at, Math.floor(v / 0x1_0000_0000));
  writeU32(out, at + 4, v >>> 0);
}

export function writeBigU64(out: Uint8Array, at: number, v: bigint): void {
  writeU32(out, at, Number(v >> 32n));
  writeU32(out, at + 4, Number(v & 0xffff_ffffn));
}

export function readBigU64(p: Uint8Array, at: number): bigint {
  return (BigInt(readU32(p, at)) << 32n) | BigInt(readU32(p, at + 4));
}

/** A number the server sends in a u32 field: saturated, never wrapped (a huge swarm stays huge). */
export function saturateU32(v: number): number {
  return v >= 0xffff_ffff ? 0xffff_ffff : v > 0 ? Math.floor(v) : 0;
}

/** Throws a RangeError unless `v` is an integer in [min, max]: a caller's mistake, not input. */
export function checkInt(name: string, v: number, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${v}`);
  }
}

export function checkU32(name: string, v: number): void {
  checkInt(name, v, 0, 0xffff_ffff);
}

export function checkConnectionId(v: bigint): void {
  if (v < 0n || v > 0xffff_ffff_ffff_ffffn) {
    throw new RangeError(`connectionId must fit in 64 unsigned bits, got ${v}`);
  }
}

export function checkHash(name: string, v: Uint8Array): void {
  if (v.length !== 20) throw new RangeError(`${name} must be 20 bytes, got ${v.length}`);
}
