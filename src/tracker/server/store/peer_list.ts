/**
 * A dense, packed list of peers: no JS object per peer, only typed arrays, so a swarm of a
 * million peers is a handful of buffers the garbage collector never has to walk. Each entry
 * is the compact address (BEP 23 / BEP 7 bytes, ready to copy into a reply), the peer id,
 * last-seen time, the key hash (for the swarm's index), a few flags and failed checks. Swap-remove keeps it
 * dense, so adding and removing are O(1) and a reply copies runs of ready-made compact bytes.
 */

const ID_LENGTH = 20;

/** Flag bits per entry. */
export const CHECKABLE = 1;
/** This peer's `completed` was already counted in the swarm's downloaded counter. */
export const COUNTED = 2;
export const SEEDER = 4;

/** Int32 words per entry in `meta`: 5 for the peer id, the key hash, flags and failures. */
const META = 7;
const HASH = 5;
const FLAGS = 6;

export class PeerList {
  length = 0;
  /** Compact addresses, `entrySize` bytes each. */
  addr: Uint8Array;
  /** `addr` as a DataView: replies copy entries as words, not bytes. */
  addrView: DataView;
  /** Peer id (5 big-endian words), key hash, flags | failed checks << 8: see META. */
  meta: Int32Array;
  /** Last announce time (ms). */
  seen: Float64Array;

  /** `entrySize` is 6 for IPv4 lists and 18 for IPv6 lists. */
  constructor(readonly entrySize: number, capacity = 2) {
    // Three arrays and a small first capacity: a one-peer swarm must stay cheap.
    this.addr = new Uint8Array(capacity * entrySize);
    this.addrView = new DataView(this.addr.buffer);
    this.meta = new Int32Array(capacity * META);
    this.seen = new Float64Array(capacity);
  }

  get capacity(): number {
    return this.seen.length;
  }

  hashAt(i: number): number {
    return this.meta[i * META + HASH]!;
  }

  flagsAt(i: number): number {
    return this.meta[i * META + FLAGS]! & 0xff;
  }

  setFlags(i: number, flags: number): void {
    const at = i * META + FLAGS;
    this.meta[at] = (this.meta[at]! & ~0xff) | flags;
  }

  /** Consecutive failed health checks. */
  failuresAt(i: number): number {
    return this.meta[i * META + FLAGS]! >>> 8;
  }

  setFailures(i: number, failures: number): void {
    const at = i * META + FLAGS;
    this.meta[at] = (this.meta[at]! & 0xff) | (Math.min(failures, 0xffff) << 8);
  }

  /** Appends a peer from its key (peer id, then compact address); returns its index. */
  push(key: string, hash: number, seen: number, flags: number): number {
    const i = this.#reserve();
    const size = this.entrySize;
    const at = i * META;
    for (let w = 0; w < 5; w++) this.meta[at + w] = idWord(key, w);
    this.meta[at + HASH] = hash;
    this.meta[at + FLAGS] = flags;
    for (let k = 0, a = i * size; k < size; k++) this.addr[a + k] = key.charCodeAt(ID_LENGTH + k);
    this.seen[i] = seen;
    return i;
  }

  /** Appends a copy of entry `j` of `from` (same entry size); returns its index. */
  pushFrom(from: PeerList, j: number): number {
    const i = this.#reserve();
    const size = this.entrySize;
    this.meta.set(from.meta.subarray(j * META, (j + 1) * META), i * META);
    this.addr.set(from.addr.subarray(j * size, (j + 1) * size), i * size);
    this.seen[i] = from.seen[j]!;
    return i;
  }

  /**
   * Swap-removes entry `i`: the last entry moves into its place. Returns the index the moved
   * entry had (so its owner can update its index), or -1 when nothing moved.
   */
  removeAt(i: number): number {
    const last = --this.length;
    let moved = -1;
    if (i !== last) {
      const size = this.entrySize;
      this.addr.copyWithin(i * size, last * size, (last + 1) * size);
      this.meta.copyWithin(i * META, last * META, (last + 1) * META);
      this.seen[i] = this.seen[last]!;
      moved = last;
    }
    // Give memory back when a big swarm has mostly left.
    if (this.capacity > 64 && this.length * 4 < this.capacity) this.#resize(this.capacity / 2);
    return moved;
  }

  /** True when entry `i` has this key (peer id, then compact address). */
  matches(i: number, key: string): boolean {
    const size = this.entrySize;
    if (key.length !== ID_LENGTH + size) return false;
    for (let w = 0, at = i * META; w < 5; w++) {
      if (this.meta[at + w] !== idWord(key, w)) return false;
    }
    for (let k = 0, at = i * size; k < size; k++) {
      if (this.addr[at + k] !== key.charCodeAt(ID_LENGTH + k)) return false;
    }
    return true;
  }

  /** Entry `i`'s key: peer id then compact address, as a binary string. */
  keyAt(i: number): string {
    let key = "";
    for (let w = 0, at = i * META; w < 5; w++) {
      const v = this.meta[at + w]!;
      key += String.fromCharCode(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
    }
    const size = this.entrySize;
    for (let k = 0, at = i * size; k < size; k++) key += String.fromCharCode(this.addr[at + k]!);
    return key;
  }

  #reserve(): number {
    if (this.length === this.capacity) this.#resize(this.capacity * 2);
    return this.length++;
  }

  #resize(capacity: number): void {
    const n = this.length;
    const addr = new Uint8Array(capacity * this.entrySize);
    addr.set(this.addr.subarray(0, n * this.entrySize));
    const meta = new Int32Array(capacity * META);
    meta.set(this.meta.subarray(0, n * META));
    const seen = new Float64Array(capacity);
    seen.set(this.seen.subarray(0, n));
    this.addr = addr;
    this.addrView = new DataView(addr.buffer);
    this.meta = meta;
    this.seen = seen;
  }
}

/** Bytes 4w..4w+3 of a binary string as one big-endian int32. */
function idWord(key: string, w: number): number {
  const at = w * 4;
  return (key.charCodeAt(at) << 24) | (key.charCodeAt(at + 1) << 16) |
    (key.charCodeAt(at + 2) << 8) | key.charCodeAt(at + 3);
}

/** Takes the runs a sample is made of, so sampling needs no object per run. */
export interface RunSink {
  /** A contiguous run `[start, start + length)` of `list`; `skip` is left out (-1: none). */
  run(list: PeerList, start: number, length: number, skip: number): void;
}

/** Peers per run: 8 IPv4 entries are 48 bytes, about one cache line. */
const RUN = 8;

/**
 * Picks about `want` peers from `list` without entry `skip` (-1: none): the list is cut into
 * equal slices and a random run of up to 8 consecutive peers is taken from each slice, so the
 * sample spans the whole swarm at O(want) cost. Runs never overlap, so no peer comes twice.
 */
export function sampleRuns(
  list: PeerList,
  want: number,
  skip: number,
  random: () => number,
  out: RunSink,
): number {
  const n = list.length;
  const available = skip >= 0 ? n - 1 : n;
  if (want <= 0 || available <= 0) return 0;
  if (want >= available) {
    out.run(list, 0, n, skip);
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
    out.run(list, start, length, hasSelf ? skip : -1);
    got += hasSelf ? length - 1 : length;
    left -= length;
  }
  return Math.min(got, want);
}
