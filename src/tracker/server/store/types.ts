/** What the store hands out: stored peers and the samples written into replies. */

/**
 * A peer as stored. `key` is the 20-byte peer id followed by the compact address (4 or 16
 * address bytes, then the big-endian port), as a binary string.
 */
export interface PeerRecord {
  readonly key: string;
  readonly seeder: boolean;
  readonly lastSeen: number;
  readonly failures: number;
  readonly checkable: boolean;
}

/** The peers picked for one reply, ready to be written out. */
export interface PeerSample {
  readonly count4: number;
  readonly count6: number;
  /** Writes the IPv4 peers as 6-byte compact entries at `at`; returns the end offset. */
  writeCompact4(out: Uint8Array, at: number): number;
  /** Writes the IPv6 peers as 18-byte compact entries at `at`; returns the end offset. */
  writeCompact6(out: Uint8Array, at: number): number;
  forEach(fn: (peer: PeerRecord) => void): void;
}
