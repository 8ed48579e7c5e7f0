/**
 * A dense list of peers plus their compact addresses (BEP 23 / BEP 7 entries) packed side by
 * side in one buffer. Swap-remove keeps both dense, so adding and removing are O(1) and a
 * reply copies runs of ready-made compact bytes instead of visiting peer objects one by one.
 */

/** What the list needs from a stored peer. */
export interface ListedPeer {
  /** Peer id (20 chars) then the compact address, as a binary string. */
  readonly key: string;
  /** Position in the list it is in. */
  index: number;
}

export class PeerList<P extends ListedPeer> {
  readonly peers: P[] = [];
  bytes: Uint8Array;

  /** `entrySize` is 6 for IPv4 lists and 18 for IPv6 lists. */
  constructor(readonly entrySize: number) {
    this.bytes = new Uint8Array(entrySize * 4);
  }

  get length(): number {
    return this.peers.length;
  }

  add(peer: P): void {
    const i = this.peers.length;
    const size = this.entrySize;
    if ((i + 1) * size > this.bytes.length) {
      const grown = new Uint8Array(this.bytes.length * 2);
      grown.set(this.bytes);
      this.bytes = grown;
    }
    const key = peer.key;
    for (let k = 0, at = i * size; k < size; k++) this.bytes[at + k] = key.charCodeAt(20 + k);
    peer.index = i;
    this.peers.push(peer);
  }

  remove(peer: P): void {
    const last = this.peers.pop()!;
    if (last !== peer) {
      const size = this.entrySize;
      this.bytes.copyWithin(
        peer.index * size,
        this.peers.length * size,
        (this.peers.length + 1) * size,
      );
      this.peers[peer.index] = last;
      last.index = peer.index;
    }
    // Give memory back when a big swarm has mostly left.
    if (
      this.bytes.length > 64 * this.entrySize &&
      this.peers.length * 4 * this.entrySize < this.bytes.length
    ) {
      this.bytes = this.bytes.slice(0, this.bytes.length / 2);
    }
  }
}

/** A contiguous run of a list, minus the announcing peer if it falls inside. */
export interface Run<P extends ListedPeer> {
  list: PeerList<P>;
  start: number;
  length: number;
  /** Index to leave out (the announcing peer), or -1. */
  skip: number;
}

/** Peers per run: 8 IPv4 entries are 48 bytes, about one cache line. */
const RUN = 8;

/**
 * Picks about `want` peers from `list` without `self`: the list is cut into equal slices and
 * a random run of up to 8 consecutive peers is taken from each slice, so the sample spans the
 * whole swarm at O(want) cost. Runs never overlap, so no peer comes twice.
 */
export function sampleRuns<P extends ListedPeer>(
  list: PeerList<P>,
  want: number,
  self: P | undefined,
  random: () => number,
  out: Run<P>[],
): number {
  const n = list.length;
  const skip = self !== undefined && list.peers[self.index] === self ? self.index : -1;
  const available = skip >= 0 ? n - 1 : n;
  if (want <= 0 || available <= 0) return 0;
  if (want >= available) {
    out.push({ list, start: 0, length: n, skip });
    return available;
  }
  // One more than asked when self could land in a run, so the total is still `want`.
  const take = Math.min(n, skip >= 0 ? want + 1 : want);
  const runs = Math.ceil(take / RUN);
  const slice = n / runs;
  let got = 0;
  let left = take;
  for (let r = 0; r < runs; r++) {
    const from = Math.floor(r * slice);
    const to = Math.floor((r + 1) * slice);
    const length = Math.min(Math.ceil(left / (runs - r)), to - from);
    const start = from + Math.floor(random() * (to - from - length + 1));
    const hasSelf = skip >= start && skip < start + length;
    out.push({ list, start, length, skip: hasSelf ? skip : -1 });
    got += hasSelf ? length - 1 : length;
    left -= length;
  }
  return Math.min(got, want);
}
