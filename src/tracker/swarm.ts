/**
 * One swarm's packed peer tables (see PeerList and PeerIndex) and the peer sample a reply is
 * written from. Internal to the memory store.
 */
import { PeerIndex } from "./peer_index.ts";
import { CHECKABLE, PeerList, type Run, SEEDER } from "./peer_list.ts";
import type { PeerRecord, PeerSample } from "./store.ts";

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
    return this.lists[id] ??= new PeerList(
      id === SEEDERS4 || id === LEECHERS4 || id === PARKED4 ? 6 : 18,
    );
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

/** Runs taken from one list, with how many peers they hold (self left out, capped). */
interface Part {
  runs: Run[];
  count: number;
  id: number;
}

export class RunSample implements PeerSample {
  count4 = 0;
  count6 = 0;
  readonly parts4: Part[] = [];
  readonly parts6: Part[] = [];

  writeCompact4(out: Uint8Array, at: number): number {
    return writeParts(this.parts4, 6, out, at);
  }

  writeCompact6(out: Uint8Array, at: number): number {
    return writeParts(this.parts6, 18, out, at);
  }

  forEach(fn: (peer: PeerRecord) => void): void {
    for (const part of [...this.parts4, ...this.parts6]) {
      let left = part.count;
      for (const run of part.runs) {
        for (let i = run.start; i < run.start + run.length && left > 0; i++) {
          if (i === run.skip) continue;
          fn(recordOf(run.list, part.id, i));
          left--;
        }
      }
    }
  }
}

function writeParts(parts: Part[], size: number, out: Uint8Array, at: number): number {
  // Byte loops, not out.set(subarray): a run is under 150 bytes and every subarray is an
  // allocation on the hottest path.
  for (const part of parts) {
    let left = part.count;
    for (const run of part.runs) {
      if (left <= 0) break;
      const bytes = run.list.addr;
      const end = run.start + run.length;
      for (let i = run.start; i < end && left > 0; i++) {
        if (i === run.skip) continue;
        for (let k = i * size, stop = k + size; k < stop; k++) out[at++] = bytes[k]!;
        left--;
      }
    }
  }
  return at;
}

export const EMPTY_SAMPLE = new RunSample();
