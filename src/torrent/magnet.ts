import { fromHex, toHex } from "../util/bytes.ts";
import { InputError } from "../util/errors.ts";

/** A magnet URI that cannot be used: names the parameter and what is wrong with it. */
export class MagnetError extends InputError {
  override name = "MagnetError";
  constructor(readonly reason: string) {
    super(`invalid magnet link: ${reason}`);
  }
}

/** What a BEP 9 magnet link tells us before the metadata is fetched. */
export interface Magnet {
  infoHash: Uint8Array;
  infoHashHex: string;
  /** `dn`: display name, only a hint until the info dictionary arrives. */
  name?: string;
  /** `tr` (and `tr.N`) tracker URLs, in order, without duplicates. */
  trackers: string[];
  /** `x.pe` peer addresses as given (`host:port`, `[v6]:port`). */
  peers: string[];
}

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/**
 * Parses a magnet URI (BEP 9). `xt=urn:btih:` accepts 40 hex digits or 32 base32 characters.
 * Values are percent-decoded, and `+` is read as a space as libtorrent and browsers do.
 * @throws {MagnetError}
 */
export function parseMagnet(uri: string): Magnet {
  const match = /^magnet:\?(.*)$/is.exec(uri.trim());
  if (!match) throw new MagnetError(`must start with "magnet:?"`);
  let infoHash: Uint8Array | undefined;
  let name: string | undefined;
  const trackers: string[] = [];
  const peers: string[] = [];
  for (const part of match[1]!.split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    if (eq <= 0) throw new MagnetError(`parameter "${part}" has no value`);
    const key = part.slice(0, eq).toLowerCase();
    const value = percentDecode(part.slice(eq + 1), key);
    if (key === "xt") {
      const btih = /^urn:btih:(.*)$/i.exec(value);
      // Other URNs (BEP 52's btmh) may sit beside btih; only btih is understood here.
      if (btih && infoHash === undefined) infoHash = decodeInfoHash(btih[1]!);
    } else if (key === "dn") {
      name ??= value;
    } else if (key === "tr" || /^tr\.\d+$/.test(key)) {
      if (value !== "" && !trackers.includes(value)) trackers.push(value);
    } else if (key === "x.pe") {
      if (value !== "" && !peers.includes(value)) peers.push(value);
    }
  }
  if (!infoHash) throw new MagnetError(`no "xt=urn:btih:" info hash`);
  const magnet: Magnet = { infoHash, infoHashHex: toHex(infoHash), trackers, peers };
  if (name !== undefined) magnet.name = name;
  return magnet;
}

/** Formats a magnet URI with the hex info hash, `dn` and one `tr` per tracker. */
export function formatMagnet(
  m: { infoHashHex: string; name?: string | undefined; trackers?: readonly string[] | undefined },
): string {
  if (!/^[0-9a-fA-F]{40}$/.test(m.infoHashHex)) {
    throw new MagnetError(`info hash "${m.infoHashHex}" is not 40 hex digits`);
  }
  let uri = `magnet:?xt=urn:btih:${m.infoHashHex.toLowerCase()}`;
  if (m.name !== undefined && m.name !== "") uri += `&dn=${encodeURIComponent(m.name)}`;
  for (const tr of m.trackers ?? []) uri += `&tr=${encodeURIComponent(tr)}`;
  return uri;
}

function decodeInfoHash(text: string): Uint8Array {
  if (text.length === 40) {
    const bytes = fromHex(text);
    if (bytes) return bytes;
    throw new MagnetError(`btih "${text}" is not hex`);
  }
  if (text.length === 32) return base32Decode(text);
  throw new MagnetError(`btih "${text}" must be 40 hex or 32 base32 characters`);
}

/** RFC 4648 base32 (no padding needed: 32 characters hold exactly 20 bytes). */
export function base32Decode(text: string): Uint8Array {
  const out = new Uint8Array(Math.floor((text.length * 5) / 8));
  let bits = 0;
  let acc = 0;
  let pos = 0;
  for (const ch of text.toUpperCase()) {
    const v = BASE32.indexOf(ch);
    if (v < 0) throw new MagnetError(`"${ch}" is not a base32 character`);
    acc = ((acc << 5) | v) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[pos++] = (acc >>> bits) & 0xff;
    }
  }
  return out;
}

/** RFC 4648 base32 without padding. */
export function base32Encode(bytes: Uint8Array): string {
  let out = "";
  let bits = 0;
  let acc = 0;
  for (const b of bytes) {
    acc = ((acc << 8) | b) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += BASE32[(acc >>> bits) & 31];
    }
  }
  if (bits > 0) out += BASE32[(acc << (5 - bits)) & 31];
  return out;
}

function percentDecode(value: string, key: string): string {
  try {
    return decodeURIComponent(value.replaceAll("+", " "));
  } catch {
    throw new MagnetError(`parameter "${key}" has a bad percent-escape`);
  }
}
