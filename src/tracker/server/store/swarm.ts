/**
 * One swarm's packed peer tables (see PeerList and PeerIndex) and the peer sample a reply is
 * written from. Internal to the memory store.
 */
import { PeerIndex } from "./peer_index.ts";
import { CHECKABLE, PeerList, type RunSink, SEEDER } from "./peer_list.ts";
import type { PeerRecord, PeerSample } from "./types.ts";

// List ids (the low 3 bits of an index reference). Parked lists hold peers set aside after
// failed health checks: stored and refreshed, but neither handed out nor counted.
export const SEEDERS4 = 0;
export const LEECHERS4 = 1;
export const SEEDERS6 = 2;
export const LEECHERS6 = 3;
export const PARKED4 = 4;
export const PARKED6 = 5;
export const LIST_COUNT = 6;

export const V4_KEY_LENGTH = 20 + 6;

/** Bytes per compact entry in list `id`: 6 for IPv4 lists, 18 for IPv6 ones. */
export function entrySizeOf(id: number): number {
  return id === SEEDERS6 || id === LEECHERS6 || id === PARKED6 ? 18 : 6;
}

export function activeListId(v6: boolean, seeder: boolean): number {
  return (v6 ? SEEDERS6 : SEEDERS4) + (seeder ? 0 : 1);
}

/** Below this many peers a swarm finds them by scanning its lists instead of an index. */
const INDEX_FROM = 8;

export class Swarm {
  #index: PeerIndex | undefined;
  /** Peers stored, parked ones included. */
  size = 0;
  // Lists are made on first use: most swarms are small and never see IPv6 or a failed check.
  readonly lists: (PeerList | undefined)[] = [
    undefined,
    undefined,
    undefined,
    undefined,
    undefined,
    undefined,
  ];
  downloaded = 0;

  list(id: number): PeerList {
    return this.lists[id] ??= new PeerList(entrySizeOf(id));
  }

  get complete(): number {
    return (this.lists[SEEDERS4]?.length ?? 0) + (this.lists[SEEDERS6]?.length ?? 0);
  }

  get incomplete(): number {
    return (this.lists[LEECHERS4]?.length ?? 0) + (this.lists[LEECHERS6]?.length ?? 0);
  }

  /** The reference (`index * 8 + list id`) of the peer with this key and hash, or -1. */
  find(hash: number, key: string): number {
    if (this.#index) return this.#index.find(hash, key, this.lists);
    for (let id = 0; id < this.lists.length; id++) {
      const list = this.lists[id];
      if (!list) continue;
      for (let i = 0; i < list.length; i++) {
        if (list.hashAt(i) === hash && list.matches(i, key)) return (i << 3) | id;
      }
    }
    return -1;
  }

  /** Adds a peer to list `id`; returns its reference. */
  add(id: number, key: string, hash: number, now: number, flags: number): number {
    const ref = (this.list(id).push(key, hash, now, flags) << 3) | id;
    this.size++;
    if (this.#index) {
      this.#index.add(hash, ref);
    } else if (this.size >= INDEX_FROM) {
      const index = this.#index = new PeerIndex();
      for (let l = 0; l < this.lists.length; l++) {
        const list = this.lists[l];
        for (let i = 0; i < (list?.length ?? 0); i++) index.add(list!.hashAt(i), (i << 3) | l);
      }
    }
    return ref;
  }

  /** Moves entry `ref` to list `to`; returns its new reference. */
  move(ref: number, to: number): number {
    const from = this.lists[ref & 7]!;
    const i = ref >> 3;
    const hash = from.hashAt(i);
    const moved = (this.list(to).pushFrom(from, i) << 3) | to;
    this.#index?.update(hash, ref, moved);
    this.#removeEntry(from, ref);
    return moved;
  }

  /** Drops entry `ref` from the index and its list. */
  remove(ref: number): void {
    const list = this.lists[ref & 7]!;
    this.#index?.delete(list.hashAt(ref >> 3), ref);
    this.size--;
    this.#removeEntry(list, ref);
  }

  #removeEntry(list: PeerList, ref: number): void {
    const id = ref & 7;
    const i = ref >> 3;
    const last = list.removeAt(i);
    if (last >= 0) this.#index?.update(list.hashAt(i), (last << 3) | id, (i << 3) | id);
  }
}

/** One stored peer as a record, made on demand (health checks, dictionary-model replies). */
export function recordOf(list: PeerList, id: number, i: number): PeerRecord {
  const flags = list.flagsAt(i);
  return {
    key: list.keyAt(i),
    seeder: id === PARKED4 || id === PARKED6
      ? (flags & SEEDER) !== 0
      : id === SEEDERS4 || id === SEEDERS6,
    lastSeen: list.seen[i]!,
    failures: list.failuresAt(i),
    checkable: (flags & CHECKABLE) !== 0,
  };
}

/**
 * The peers picked for one reply, as runs of the swarm's lists, flat (no object per run or
 * per list): the store fills one and reuses it for every announce (`reset`), so a reply makes
 * no garbage here. Runs come in parts, one per list, each capped at the peers it may give.
 */
export class RunSample implements PeerSample, RunSink {
  count4 = 0;
  count6 = 0;
  /** Per run: its list. */
  #lists: PeerList[] = [];
  /** Per run: start, length, skip (-1: none). */
  #runs = new Int32Array(3 * 32);
  #runCount = 0;
  /** Per part: list id, first run, end run, peers to take; at most one part per list. */
  readonly #parts = new Int32Array(4 * LIST_COUNT);
  #partCount = 0;
  /** A DataView of the last reply buffer written into. */
  #out: DataView | undefined;

  /** Empties the sample for the next announce. */
  reset(): void {
    this.count4 = this.count6 = 0;
    this.#runCount = this.#partCount = 0;
    // Lists stay referenced until overwritten: at most a few dozen, all alive in their swarms
    // or about to be collected with them.
  }

  /** Starts the part of list `id`; its runs follow through `run`. */
  beginPart(id: number): void {
    const p = this.#partCount * 4;
    this.#parts[p] = id;
    this.#parts[p + 1] = this.#parts[p + 2] = this.#runCount;
    this.#parts[p + 3] = 0;
  }

  /** Ends the part begun last, which gives `count` peers. */
  endPart(count: number): void {
    const p = this.#partCount++ * 4;
    this.#parts[p + 2] = this.#runCount;
    this.#parts[p + 3] = count;
    if (entrySizeOf(this.#parts[p]!) === 6) this.count4 += count;
    else this.count6 += count;
  }

  run(list: PeerList, start: number, length: number, skip: number): void {
    const r = this.#runCount++;
    if (r * 3 + 3 > this.#runs.length) {
      const grown = new Int32Array(this.#runs.length * 2);
      grown.set(this.#runs);
      this.#runs = grown;
    }
    this.#lists[r] = list;
    this.#runs[r * 3] = start;
    this.#runs[r * 3 + 1] = length;
    this.#runs[r * 3 + 2] = skip;
  }

  writeCompact4(out: Uint8Array, at: number): number {
    return this.#write(6, out, at);
  }

  writeCompact6(out: Uint8Array, at: number): number {
    return this.#write(18, out, at);
  }

  forEach(fn: (peer: PeerRecord) => void): void {
    for (const size of [6, 18]) {
      this.#eachEntry(size, (list, id, i) => fn(recordOf(list, id, i)));
    }
  }

  /** Copies the entries of every part with `size`-byte entries, as words, to `out` at `at`. */
  #write(size: number, out: Uint8Array, at: number): number {
    let view = this.#out;
    if (view?.buffer !== out.buffer) view = this.#out = new DataView(out.buffer);
    const dst = view;
    let to = at + out.byteOffset;
    this.#eachEntry(size, (list, _id, i) => {
      to = copyEntry(list.addrView, i * size, size, dst, to);
    });
    return to - out.byteOffset;
  }

  #eachEntry(size: number, fn: (list: PeerList, id: number, i: number) => void): void {
    const runs = this.#runs;
    for (let p = 0; p < this.#partCount * 4; p += 4) {
      if (entrySizeOf(this.#parts[p]!) !== size) continue;
      let left = this.#parts[p + 3]!;
      for (let r = this.#parts[p + 1]!; r < this.#parts[p + 2]! && left > 0; r++) {
        const start = runs[r * 3]!, end = start + runs[r * 3 + 1]!, skip = runs[r * 3 + 2]!;
        for (let i = start; i < end && left > 0; i++) {
          if (i === skip) continue;
          fn(this.#lists[r]!, this.#parts[p]!, i);
          left--;
        }
      }
    }
  }
}

/**
 * One compact entry (6 or 18 bytes) from `src` at `from` to `out` at `at`, as 32- and 16-bit
 * words: about 3x faster than a byte loop, and a reply copies up to 200 of them.
 */
function copyEntry(src: DataView, from: number, size: number, out: DataView, at: number): number {
  const end = from + size - 2;
  for (; from < end; from += 4, at += 4) out.setUint32(at, src.getUint32(from));
  out.setUint16(at, src.getUint16(from));
  return at + 2;
}

export const EMPTY_SAMPLE = new RunSample();
