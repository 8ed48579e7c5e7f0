/**
 * A swarm's peer index: key hash -> where the peer sits (list id and index in that list), as
 * an open-addressing table in one Int32Array, so indexing a million peers allocates no JS
 * object per peer. Linear probing with backward-shift deletion (no tombstones).
 */
import type { PeerList } from "./peer_list.ts";

const EMPTY = -1;

/** FNV-1a over a binary string (peer id then compact address). */
export function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h | 0;
}

export class PeerIndex {
  /** Two words per slot: reference (`index * 8 + list id`, or EMPTY) and key hash. */
  #table = new Int32Array(8).fill(EMPTY);
  size = 0;

  /**
   * The reference of the peer with this key (hashed to `hash`), or -1. A reference is
   * `index * 8 + list id`: entry `index` of `lists[list id]`.
   */
  find(hash: number, key: string, lists: readonly (PeerList | undefined)[]): number {
    const t = this.#table;
    const mask = (t.length >> 1) - 1;
    for (let s = hash & mask;; s = (s + 1) & mask) {
      const r = t[s * 2]!;
      if (r === EMPTY) return EMPTY;
      if (t[s * 2 + 1] === hash && lists[r & 7]!.matches(r >> 3, key)) return r;
    }
  }

  add(hash: number, ref: number): void {
    // Load factor at most 1/2 keeps probe chains short.
    if ((this.size + 1) * 4 > this.#table.length) this.#resize(this.#table.length * 2);
    this.#place(hash, ref);
    this.size++;
  }

  /** Changes the reference `from` (stored under `hash`) to `to`. */
  update(hash: number, from: number, to: number): void {
    this.#table[this.#slotOf(hash, from) * 2] = to;
  }

  delete(hash: number, ref: number): void {
    this.#unlink(this.#slotOf(hash, ref));
    this.size--;
    // Give memory back when a big swarm has mostly left.
    if (this.#table.length > 64 && this.size * 16 < this.#table.length) {
      this.#resize(this.#table.length / 2);
    }
  }

  #unlink(slot: number): void {
    const t = this.#table;
    const mask = (t.length >> 1) - 1;
    let i = slot;
    // Shift later entries of the probe chain back so lookups never stop at a hole too early.
    for (;;) {
      t[i * 2] = EMPTY;
      let j = i;
      for (;;) {
        j = (j + 1) & mask;
        if (t[j * 2] === EMPTY) return;
        const home = t[j * 2 + 1]! & mask;
        const stays = i <= j ? i < home && home <= j : i < home || home <= j;
        if (!stays) break;
      }
      t[i * 2] = t[j * 2]!;
      t[i * 2 + 1] = t[j * 2 + 1]!;
      i = j;
    }
  }

  #slotOf(hash: number, ref: number): number {
    const t = this.#table;
    const mask = (t.length >> 1) - 1;
    for (let s = hash & mask;; s = (s + 1) & mask) {
      const r = t[s * 2]!;
      if (r === ref) return s;
      if (r === EMPTY) throw new Error(`peer index lost reference ${ref}`);
    }
  }

  #place(hash: number, ref: number): void {
    const t = this.#table;
    const mask = (t.length >> 1) - 1;
    let s = hash & mask;
    while (t[s * 2] !== EMPTY) s = (s + 1) & mask;
    t[s * 2] = ref;
    t[s * 2 + 1] = hash;
  }

  #resize(words: number): void {
    const old = this.#table;
    this.#table = new Int32Array(words).fill(EMPTY);
    for (let s = 0; s < old.length; s += 2) {
      if (old[s] !== EMPTY) this.#place(old[s + 1]!, old[s]!);
    }
  }
}
