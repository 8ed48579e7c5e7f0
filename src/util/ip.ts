/**
 * IP address text <-> bytes, for compact peer lists (BEP 23 / BEP 7). Pure functions.
 * IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`) come back as 4 bytes: a dual-stack socket
 * reports IPv4 peers that way, and they belong in `peers`, not `peers6`.
 */

/**
 * Where a peer (or any host) can be reached: an IPv4/IPv6 literal in the form `formatIp` gives
 * (or, rarely, a DNS name from a tracker) and a port.
 */
export interface PeerAddress {
  hostname: string;
  port: number;
}

/** Parses dotted-quad IPv4; undefined when malformed. */
export function parseIPv4(text: string): Uint8Array | undefined {
  // Hand-rolled (no split/regex): this runs on every announce.
  const out = new Uint8Array(4);
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 46; // a final "." closes the last part
    if (c === 46) {
      if (digits === 0 || part > 3) return undefined;
      out[part++] = value;
      value = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      value = value * 10 + c - 48;
      digits++;
      if (value > 255) return undefined;
    } else {
      return undefined;
    }
  }
  return part === 4 ? out : undefined;
}

function parseIPv6(text: string): Uint8Array | undefined {
  // Zone ids (fe80::1%eth0) mean nothing to a remote peer.
  const zone = text.indexOf("%");
  if (zone >= 0) text = text.slice(0, zone);
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groups: number[][] = [];
  for (const half of halves) {
    const words: number[] = [];
    if (half !== "") {
      const parts = half.split(":");
      for (let i = 0; i < parts.length; i++) {
        const p = parts[i]!;
        if (i === parts.length - 1 && p.includes(".")) {
          const v4 = parseIPv4(p);
          if (!v4) return undefined;
          words.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
        } else if (/^[0-9a-fA-F]{1,4}$/.test(p)) {
          words.push(parseInt(p, 16));
        } else {
          return undefined;
        }
      }
    }
    groups.push(words);
  }
  const head = groups[0]!;
  const tail = groups[1] ?? [];
  const total = head.length + tail.length;
  if (halves.length === 1 ? total !== 8 : total > 7) return undefined;
  const words = [...head, ...new Array<number>(8 - total).fill(0), ...tail];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[i * 2] = words[i]! >> 8;
    out[i * 2 + 1] = words[i]! & 0xff;
  }
  return out;
}

/**
 * Parses an IPv4 or IPv6 address (brackets allowed) into 4 or 16 bytes. IPv4-mapped IPv6
 * becomes 4 bytes. Undefined when the text is not an address.
 */
export function parseIp(text: string): Uint8Array | undefined {
  if (text.startsWith("[") && text.endsWith("]")) text = text.slice(1, -1);
  if (!text.includes(":")) return parseIPv4(text);
  const v6 = parseIPv6(text);
  return v6 && unmapIPv4(v6);
}

/** The 4 IPv4 bytes of an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`), else `v6` itself. */
export function unmapIPv4(v6: Uint8Array): Uint8Array {
  for (let i = 0; i < 10; i++) if (v6[i] !== 0) return v6;
  return v6[10] === 0xff && v6[11] === 0xff ? v6.slice(12) : v6;
}

/**
 * Formats 4 or 16 address bytes as text; IPv6 as RFC 5952 says: lower-case, leading zeros
 * dropped, the longest run of two or more zero groups as `::`.
 */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return bytes.join(".");
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((bytes[i]! << 8) | bytes[i + 1]!);
  // Longest run of zero words (length >= 2) becomes "::" (RFC 5952).
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (bestStart < 0) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLen).join(":")}`;
}
