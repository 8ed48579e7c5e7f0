/**
 * Our identity towards trackers and peers: an Azureus-style peer id and the tracker `key`.
 * @module
 */
import { VERSION } from "../../util/version.ts";
import { toHex } from "../../util/bytes.ts";

/** Two-letter client code in the peer id; `BX` is not taken in the BEP 20 registry. */
export const CLIENT_CODE = "BX";

/**
 * The four version characters of the peer id prefix: major, minor, patch and 0, each one
 * base-36 digit so that versions above 9 still fit (clients decode `-XXvvvv-` this way).
 */
export function versionDigits(version: string): string {
  const parts = version.split(/[.+-]/).slice(0, 3).map((p) => Number.parseInt(p, 10));
  const digit = (n: number | undefined) =>
    n === undefined || !Number.isFinite(n) || n < 0 ? "0" : Math.min(n, 35).toString(36);
  return (digit(parts[0]) + digit(parts[1]) + digit(parts[2]) + "0").toUpperCase();
}

/** `-BX0100-` for version 0.1.0. */
export const PEER_ID_PREFIX = `-${CLIENT_CODE}${versionDigits(VERSION)}-`;

/**
 * A fresh 20-byte peer id: the 8-byte prefix then 12 random bytes. The random part is raw
 * bytes, as BEP 20 allows; trackers receive it percent-encoded.
 */
export function generatePeerId(): Uint8Array {
  const id = new Uint8Array(20);
  for (let i = 0; i < PEER_ID_PREFIX.length; i++) id[i] = PEER_ID_PREFIX.charCodeAt(i);
  crypto.getRandomValues(id.subarray(PEER_ID_PREFIX.length));
  return id;
}

/**
 * A random tracker `key` (8 hex digits). Sent with every announce so a tracker can tell us
 * apart from another peer behind the same address, and recognise us if our IP changes.
 */
export function generateKey(): string {
  return toHex(crypto.getRandomValues(new Uint8Array(4)));
}

/** The client name a peer id announces, e.g. `btx 0.1.0`, or undefined if not Azureus-style. */
export function describePeerId(peerId: Uint8Array): string | undefined {
  if (peerId.length !== 20 || peerId[0] !== 0x2d || peerId[7] !== 0x2d) return undefined;
  const text = String.fromCharCode(...peerId.subarray(1, 7));
  if (!/^[A-Za-z~-]{2}[0-9A-Za-z]{4}$/.test(text)) return undefined;
  const code = text.slice(0, 2);
  const v = [...text.slice(2)].map((c) => Number.parseInt(c, 36));
  const name = code === CLIENT_CODE ? "btx" : code;
  return `${name} ${v[0]}.${v[1]}.${v[2]}`;
}
