import { type BDict, type BValue, decode, encode, isBytes, isDict } from "../../bencode/mod.ts";
import { fromBinary, toBinary, utf8, utf8Bytes } from "../../util/bytes.ts";
import { WireError } from "../errors.ts";

/** The extended-message id of the BEP 10 handshake itself. */
export const EXTENDED_HANDSHAKE_ID = 0;

/**
 * A BEP 10 extended handshake. Everything but `m` is optional; decoding drops values of the
 * wrong type or range instead of failing, because one odd field from some client should not
 * cost us the peer.
 */
export interface ExtendedHandshake {
  /**
   * Extension name → the message id the sender wants to RECEIVE that extension on.
   * Id 0 means the extension is disabled (meaningful in a later, updating handshake).
   */
  m: Map<string, number>;
  /** Client name and version, e.g. "btx 0.1.0". */
  v?: string;
  /** How many outstanding requests the sender queues without dropping. */
  reqq?: number;
  /** Our address as the sender sees it: 4 bytes (IPv4) or 16 bytes (IPv6). */
  yourip?: Uint8Array;
  /** The sender's listen port (useful when it connected to us from an ephemeral port). */
  p?: number;
  /** BEP 9: size of the info dictionary in bytes. */
  metadataSize?: number;
  /** The whole decoded dictionary, for keys not modelled here (decode only). */
  raw?: BDict;
}

/** What {@link encodeExtendedHandshake} accepts; `m` may be a Map or a plain object. */
export interface ExtendedHandshakeInit extends Omit<ExtendedHandshake, "m" | "raw"> {
  m: ReadonlyMap<string, number> | Readonly<Record<string, number>>;
}

/**
 * Encodes the bencoded payload of an extended handshake (send it as
 * `{type: "extended", id: EXTENDED_HANDSHAKE_ID, payload}`).
 * @throws {RangeError} for ids outside 0..255 or a `yourip` that is not 4 or 16 bytes.
 */
export function encodeExtendedHandshake(h: ExtendedHandshakeInit): Uint8Array {
  const m = new Map<string, number>();
  const entries = h.m instanceof Map ? [...h.m] : Object.entries(h.m);
  for (const [name, id] of entries) {
    if (!Number.isInteger(id) || id < 0 || id > 255) {
      throw new RangeError(`extension ${name} id ${id} does not fit 8 bits`);
    }
    // Bencode Map keys are binary strings; extension names are UTF-8 text.
    m.set(toBinary(utf8Bytes(name)), id);
  }
  if (h.yourip !== undefined && h.yourip.length !== 4 && h.yourip.length !== 16) {
    throw new RangeError(`yourip must be 4 or 16 bytes, got ${h.yourip.length}`);
  }
  return encode({
    m,
    v: h.v,
    reqq: h.reqq,
    yourip: h.yourip,
    p: h.p,
    metadata_size: h.metadataSize,
  });
}

/**
 * Decodes an extended handshake payload. Unknown keys are kept in `raw`; known keys with bad
 * values are left out.
 * @throws {WireError} only when the payload is not a bencoded dictionary.
 */
export function decodeExtendedHandshake(payload: Uint8Array): ExtendedHandshake {
  let value: BValue;
  try {
    // Copy first: the decoded byte strings would otherwise be views into the caller's buffer.
    value = decode(payload.slice(), { maxDepth: 32 });
  } catch (e) {
    throw new WireError(`bad extended handshake: ${(e as Error).message}`);
  }
  if (!isDict(value)) throw new WireError("extended handshake is not a dictionary");
  const out: ExtendedHandshake = { m: new Map(), raw: value };
  const m = value.get("m");
  if (isDict(m)) {
    for (const [key, id] of m) {
      if (typeof id === "number" && Number.isInteger(id) && id >= 0 && id <= 255) {
        out.m.set(utf8(fromBinary(key)), id);
      }
    }
  }
  const v = value.get("v");
  if (isBytes(v)) out.v = utf8(v);
  const reqq = intIn(value.get("reqq"), 1, 0xffffffff);
  if (reqq !== undefined) out.reqq = reqq;
  const yourip = value.get("yourip");
  if (isBytes(yourip) && (yourip.length === 4 || yourip.length === 16)) out.yourip = yourip;
  const p = intIn(value.get("p"), 1, 0xffff);
  if (p !== undefined) out.p = p;
  const size = intIn(value.get("metadata_size"), 1, Number.MAX_SAFE_INTEGER);
  if (size !== undefined) out.metadataSize = size;
  return out;
}

function intIn(v: BValue | undefined, min: number, max: number): number | undefined {
  return typeof v === "number" && v >= min && v <= max ? v : undefined;
}
