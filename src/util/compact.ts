/**
 * Compact address lists: BEP 23 peers (4-byte IPv4 + 2-byte port), BEP 7 peers (16-byte IPv6 +
 * port), and BEP 5 nodes (a 20-byte node id before each such address). Pure functions.
 * @module
 */
import { formatIp, type PeerAddress } from "./ip.ts";

/** Bytes of one compact peer: 6 for IPv4, 18 for IPv6. */
export type CompactPeerSize = 6 | 18;

/**
 * The peers in a compact list of `size`-byte records. Records with port 0 are skipped (nobody
 * listens there) and a truncated trailing record is ignored rather than failing the whole list.
 */
export function parseCompactPeers(data: Uint8Array, size: CompactPeerSize): PeerAddress[] {
  const peers: PeerAddress[] = [];
  for (let i = 0; i + size <= data.length; i += size) {
    const port = (data[i + size - 2]! << 8) | data[i + size - 1]!;
    if (port === 0) continue;
    peers.push({ hostname: formatIp(data.subarray(i, i + size - 2)), port });
  }
  return peers;
}

/** Writes `ip` (4 or 16 bytes) and `port` at `offset`; returns the offset after them. */
export function writeCompactPeer(
  out: Uint8Array,
  offset: number,
  ip: Uint8Array,
  port: number,
): number {
  out.set(ip, offset);
  out[offset + ip.length] = port >> 8;
  out[offset + ip.length + 1] = port & 0xff;
  return offset + ip.length + 2;
}

/** A DHT node from a compact node list. */
export interface CompactNode {
  /** 20-byte node id. */
  id: Uint8Array;
  address: PeerAddress;
}

/** The nodes in a BEP 5 compact node list: 26-byte (IPv4) or 38-byte (IPv6) records. */
export function parseCompactNodes(data: Uint8Array, family: 4 | 6): CompactNode[] {
  const size = family === 4 ? 26 : 38;
  const nodes: CompactNode[] = [];
  for (let i = 0; i + size <= data.length; i += size) {
    const [peer] = parseCompactPeers(data.subarray(i + 20, i + size), size === 26 ? 6 : 18);
    if (peer) nodes.push({ id: data.slice(i, i + 20), address: peer });
  }
  return nodes;
}

/** Encodes nodes as a BEP 5 compact node list; `ip` of each is 4 or 16 bytes, all alike. */
export function encodeCompactNodes(
  nodes: readonly { id: Uint8Array; ip: Uint8Array; port: number }[],
): Uint8Array {
  const size = nodes.length === 0 ? 0 : 22 + nodes[0]!.ip.length;
  const out = new Uint8Array(size * nodes.length);
  let offset = 0;
  for (const node of nodes) {
    if (node.id.length !== 20 || node.ip.length + 22 !== size) {
      throw new RangeError("compact nodes need 20-byte ids and addresses of one family");
    }
    out.set(node.id, offset);
    offset = writeCompactPeer(out, offset + 20, node.ip, node.port);
  }
  return out;
}
