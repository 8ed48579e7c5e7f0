import { WireError } from "./errors.ts";

/**
 * Every peer wire message btx understands: BEP 3 core, BEP 5 `port`, BEP 6 fast extension,
 * BEP 10 `extended`. Ids nobody here knows decode to `unknown` (BEP 3: ignore them).
 */
export type Message =
  | { type: "keepalive" }
  | { type: "choke" }
  | { type: "unchoke" }
  | { type: "interested" }
  | { type: "notInterested" }
  | { type: "have"; index: number }
  | { type: "bitfield"; bitfield: Uint8Array }
  | { type: "request" | "cancel" | "reject"; index: number; begin: number; length: number }
  | { type: "piece"; index: number; begin: number; block: Uint8Array }
  | { type: "port"; port: number }
  | { type: "suggest" | "allowedFast"; index: number }
  | { type: "haveAll" }
  | { type: "haveNone" }
  | { type: "extended"; id: number; payload: Uint8Array }
  | { type: "unknown"; id: number; payload: Uint8Array };

/** The `type` tags of {@link Message}. */
export type MessageType = Message["type"];

/** Message ids on the wire (BEP 3, BEP 5, BEP 6, BEP 10). */
export const MessageId = {
  choke: 0,
  unchoke: 1,
  interested: 2,
  notInterested: 3,
  have: 4,
  bitfield: 5,
  request: 6,
  piece: 7,
  cancel: 8,
  port: 9,
  suggest: 13,
  haveAll: 14,
  haveNone: 15,
  reject: 16,
  allowedFast: 17,
  extended: 20,
} as const;

/** Length of a piece message's frame header: length prefix, id, index, begin. */
export const PIECE_HEADER_LENGTH = 13;

/**
 * Encodes one message as a complete frame, including the 4-byte big-endian length prefix.
 * @throws {RangeError} when a number does not fit its field (a programming error).
 */
export function encodeMessage(m: Message): Uint8Array {
  switch (m.type) {
    case "keepalive":
      return new Uint8Array(4);
    case "choke":
    case "unchoke":
    case "interested":
    case "notInterested":
    case "haveAll":
    case "haveNone":
      return frame(MessageId[m.type], 0);
    case "have":
    case "suggest":
    case "allowedFast": {
      const out = frame(MessageId[m.type], 4);
      putU32(out, 5, m.index, "index");
      return out;
    }
    case "request":
    case "cancel":
    case "reject":
      return blockRefInto(new Uint8Array(REQUEST_LENGTH), MessageId[m.type], m);
    case "piece": {
      const out = new Uint8Array(PIECE_HEADER_LENGTH + m.block.length);
      out.set(encodePieceHeader(m.index, m.begin, m.block.length));
      out.set(m.block, PIECE_HEADER_LENGTH);
      return out;
    }
    case "bitfield": {
      const out = frame(MessageId.bitfield, m.bitfield.length);
      out.set(m.bitfield, 5);
      return out;
    }
    case "port": {
      if (!Number.isInteger(m.port) || m.port < 0 || m.port > 0xffff) {
        throw new RangeError(`port ${m.port} does not fit 16 bits`);
      }
      const out = frame(MessageId.port, 2);
      out[5] = m.port >> 8;
      out[6] = m.port & 0xff;
      return out;
    }
    case "extended": {
      checkByte(m.id, "extended message id");
      const out = frame(MessageId.extended, 1 + m.payload.length);
      out[5] = m.id;
      out.set(m.payload, 6);
      return out;
    }
    case "unknown": {
      checkByte(m.id, "message id");
      const out = frame(m.id, m.payload.length);
      out.set(m.payload, 5);
      return out;
    }
  }
}

/** Bytes of an encoded `request` (and `cancel`, `reject`) message. */
export const REQUEST_LENGTH = 17;

/** Encodes `request index begin length` into `out` (17 bytes or more); returns that frame. */
export function encodeRequestInto(
  out: Uint8Array,
  index: number,
  begin: number,
  length: number,
): Uint8Array {
  return blockRefInto(out, MessageId.request, { index, begin, length });
}

/** A request, cancel or reject frame (id `id`) written into `out`. */
function blockRefInto(
  out: Uint8Array,
  id: number,
  r: { index: number; begin: number; length: number },
): Uint8Array {
  putU32(out, 0, 13, "frame length");
  out[4] = id;
  putU32(out, 5, r.index, "index");
  putU32(out, 9, r.begin, "begin");
  putU32(out, 13, r.length, "length");
  return out.subarray(0, REQUEST_LENGTH);
}

/**
 * The 13-byte frame header of a piece message carrying `blockLength` bytes. Writing this and
 * then the block sends a piece without building a copy of the block.
 */
export function encodePieceHeader(index: number, begin: number, blockLength: number): Uint8Array {
  return encodePieceHeaderInto(new Uint8Array(PIECE_HEADER_LENGTH), index, begin, blockLength);
}

/** `encodePieceHeader` into `out` (13 bytes or more, reused by the caller); returns the header. */
export function encodePieceHeaderInto(
  out: Uint8Array,
  index: number,
  begin: number,
  blockLength: number,
): Uint8Array {
  putU32(out, 0, 9 + blockLength, "block length");
  out[4] = MessageId.piece;
  putU32(out, 5, index, "index");
  putU32(out, 9, begin, "begin");
  return out.subarray(0, PIECE_HEADER_LENGTH);
}

/**
 * Decodes one message from its payload (the id byte and body, without the length prefix); an
 * empty payload is a keep-alive. Byte fields (`block`, `bitfield`, extension `payload`) are
 * views into `payload`, not copies.
 * @throws {WireError} when the body length is wrong for the id.
 */
export function decodeMessage(payload: Uint8Array): Message {
  if (payload.length === 0) return { type: "keepalive" };
  const id = payload[0]!;
  const bodyLength = payload.length - 1;
  switch (id) {
    case MessageId.choke:
      return expectEmpty(payload, { type: "choke" });
    case MessageId.unchoke:
      return expectEmpty(payload, { type: "unchoke" });
    case MessageId.interested:
      return expectEmpty(payload, { type: "interested" });
    case MessageId.notInterested:
      return expectEmpty(payload, { type: "notInterested" });
    case MessageId.haveAll:
      return expectEmpty(payload, { type: "haveAll" });
    case MessageId.haveNone:
      return expectEmpty(payload, { type: "haveNone" });
    case MessageId.have:
      expectBody(id, bodyLength, 4);
      return { type: "have", index: getU32(payload, 1) };
    case MessageId.suggest:
      expectBody(id, bodyLength, 4);
      return { type: "suggest", index: getU32(payload, 1) };
    case MessageId.allowedFast:
      expectBody(id, bodyLength, 4);
      return { type: "allowedFast", index: getU32(payload, 1) };
    case MessageId.request:
    case MessageId.cancel:
    case MessageId.reject: {
      expectBody(id, bodyLength, 12);
      const type = id === MessageId.request
        ? "request"
        : id === MessageId.cancel
        ? "cancel"
        : "reject";
      return {
        type,
        index: getU32(payload, 1),
        begin: getU32(payload, 5),
        length: getU32(payload, 9),
      };
    }
    case MessageId.bitfield:
      return { type: "bitfield", bitfield: payload.subarray(1) };
    case MessageId.piece:
      if (bodyLength < 8) throw bodyError(id, bodyLength, "at least 8");
      return {
        type: "piece",
        index: getU32(payload, 1),
        begin: getU32(payload, 5),
        block: payload.subarray(9),
      };
    case MessageId.port:
      expectBody(id, bodyLength, 2);
      return { type: "port", port: (payload[1]! << 8) | payload[2]! };
    case MessageId.extended:
      if (bodyLength < 1) throw bodyError(id, bodyLength, "at least 1");
      return { type: "extended", id: payload[1]!, payload: payload.subarray(2) };
    default:
      return { type: "unknown", id, payload: payload.subarray(1) };
  }
}

function frame(id: number, bodyLength: number): Uint8Array {
  const out = new Uint8Array(5 + bodyLength);
  putU32(out, 0, 1 + bodyLength, "frame length");
  out[4] = id;
  return out;
}

function putU32(out: Uint8Array, offset: number, value: number, what: string) {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RangeError(`${what} ${value} does not fit 32 bits`);
  }
  out[offset] = value >>> 24;
  out[offset + 1] = (value >>> 16) & 0xff;
  out[offset + 2] = (value >>> 8) & 0xff;
  out[offset + 3] = value & 0xff;
}

function checkByte(value: number, what: string) {
  if (!Number.isInteger(value) || value < 0 || value > 0xff) {
    throw new RangeError(`${what} ${value} does not fit 8 bits`);
  }
}

/** Big-endian uint32 at `offset`; the caller has checked the length. */
export function getU32(bytes: Uint8Array, offset: number): number {
  // `>>> 0` keeps values >= 2^31 positive.
  return ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) |
    bytes[offset + 3]!) >>> 0;
}

function expectEmpty<M extends Message>(payload: Uint8Array, m: M): M {
  expectBody(payload[0]!, payload.length - 1, 0);
  return m;
}

function expectBody(id: number, actual: number, expected: number) {
  if (actual !== expected) throw bodyError(id, actual, String(expected));
}

function bodyError(id: number, actual: number, expected: string): WireError {
  return new WireError(`message id ${id} needs ${expected} body bytes, got ${actual}`);
}
