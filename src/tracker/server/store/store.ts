/**
 * The swarm store: who is in which swarm. Kept behind {@link SwarmStore} so a shared backend
 * can replace the in-memory one later. Keys are binary strings (one char per byte).
 */
import { toBinary } from "../../../util/bytes.ts";
import type { AnnounceEvent } from "../../protocol/types.ts";
import { hashKey } from "./peer_index.ts";
import { CHECKABLE, COUNTED, sampleRuns, SEEDER } from "./peer_list.ts";
import {
  activeListId,
  EMPTY_SAMPLE,
  LEECHERS4,
  LEECHERS6,
  LIST_COUNT,
  PARKED4,
  PARKED6,
  recordOf,
  RunSample,
  SEEDERS4,
  SEEDERS6,
  Swarm,
  V4_KEY_LENGTH,
} from "./swarm.ts";
import type { PeerRecord, PeerSample } from "./types.ts";

export type { PeerRecord, PeerSample } from "./types.ts";

/** One announce, already validated, with the address the tracker decided to use. */
export interface PeerAnnounce {
  infoHash: string;
  peerId: string;
  /** 4-byte IPv4 or 16-byte IPv6 address the peer is reached at. */
  ip: Uint8Array;
  port: number;
  /** -1 when unknown (the peer then counts as a leecher). */
  left: number;
  uploaded: number;
  downloaded: number;
  /** Undefined for a regular announce. */
  event: AnnounceEvent | undefined;
  numwant: number;
  /** False when the address came from the `ip` parameter: health checks never dial it. */
  checkable: boolean;
}

export interface SwarmCounts {
  complete: number;
  incomplete: number;
  downloaded: number;
}

export interface AnnounceOutcome extends SwarmCounts {
  /**
   * Up to numwant other peers; never the announcing peer, never seeders for a seeder. Read it
   * before the store's next announce: a store may reuse one sample for every reply.
   */
  peers: PeerSample;
  /** False when a cap stopped the peer from being stored (it still gets peers). */
  stored: boolean;
}

export interface StoreTotals {
  swarms: number;
  peers: number;
  seeders: number;
  leechers: number;
}

/** What the tracker needs from a swarm backend. */
export interface SwarmStore {
  /** Records the announce and picks peers for the reply in O(numwant). */
  announce(a: PeerAnnounce, now: number): AnnounceOutcome;
  scrape(infoHash: string): SwarmCounts | undefined;
  infoHashes(): IterableIterator<string>;
  totals(): StoreTotals;
  /** Drops peers last seen before `cutoff`; returns how many. */
  sweep(cutoff: number): number;
  /** Every checkable peer, for health checks. */
  checkablePeers(): IterableIterator<{ infoHash: string; peer: PeerRecord }>;
  /**
   * Records a health check result. A peer failing `maxFailures` checks in a row is neither
   * handed out nor counted until a check succeeds again.
   */
  recordCheck(infoHash: string, key: string, ok: boolean): void;
}

export interface MemoryStoreOptions {
  maxSwarms?: number;
  maxPeersPerSwarm?: number;
  /** Consecutive failed health checks after which a peer is set aside. Default 3. */
  maxFailures?: number;
  /** Random source in [0, 1); tests pass a seeded one. */
  random?: () => number;
}

const SEEDER_WANTS = [LEECHERS4, LEECHERS6];
const LEECHER_WANTS = [SEEDERS4, LEECHERS4, SEEDERS6, LEECHERS6];

/** The default store: everything in this process's memory. */
export class MemorySwarmStore implements SwarmStore {
  readonly #swarms = new Map<string, Swarm>();
  readonly #maxSwarms: number;
  readonly #maxPeers: number;
  readonly #maxFailures: number;
  readonly #random: () => number;
  #peers = 0;
  #seeders = 0;
  /** Every announce's sample: valid until the next announce (see AnnounceOutcome.peers). */
  readonly #sampleScratch = new RunSample();

  constructor(options: MemoryStoreOptions = {}) {
    this.#maxSwarms = options.maxSwarms ?? 100_000;
    this.#maxPeers = options.maxPeersPerSwarm ?? 100_000;
    this.#maxFailures = options.maxFailures ?? 3;
    this.#random = options.random ?? Math.random;
  }

  announce(a: PeerAnnounce, now: number): AnnounceOutcome {
    let swarm = this.#swarms.get(a.infoHash);
    if (!swarm) {
      if (a.event === "stopped" || this.#swarms.size >= this.#maxSwarms) {
        return { complete: 0, incomplete: 0, downloaded: 0, peers: EMPTY_SAMPLE, stored: false };
      }
      swarm = new Swarm();
      this.#swarms.set(a.infoHash, swarm);
    }
    const key = a.peerId + compactAddress(a.ip, a.port);
    const hash = hashKey(key);
    let ref = swarm.find(hash, key);
    const seeder = a.left === 0;
    if (a.event === "stopped") {
      if (ref >= 0) this.#remove(swarm, ref);
      return { ...countsOf(swarm), peers: EMPTY_SAMPLE, stored: false };
    }
    let stored = true;
    if (ref >= 0) {
      const list = swarm.lists[ref & 7]!;
      const flags = list.flagsAt(ref >> 3);
      if (((flags & SEEDER) !== 0) !== seeder) {
        this.#seeders += seeder ? 1 : -1;
        list.setFlags(ref >> 3, flags ^ SEEDER);
        const id = ref & 7;
        if (id < PARKED4) ref = swarm.move(ref, activeListId(id >= SEEDERS6, seeder));
      }
    } else if (swarm.size < this.#maxPeers) {
      const id = activeListId(key.length !== V4_KEY_LENGTH, seeder);
      const flags = (a.checkable ? CHECKABLE : 0) | (seeder ? SEEDER : 0);
      ref = swarm.add(id, key, hash, now, flags);
      this.#peers++;
      if (seeder) this.#seeders++;
    } else {
      stored = false;
    }
    if (ref >= 0) swarm.lists[ref & 7]!.seen[ref >> 3] = now;
    if (a.event === "completed") {
      if (ref < 0) swarm.downloaded++;
      else {
        const list = swarm.lists[ref & 7]!;
        const flags = list.flagsAt(ref >> 3);
        if ((flags & COUNTED) === 0) {
          swarm.downloaded++;
          list.setFlags(ref >> 3, flags | COUNTED);
        }
      }
    }
    return {
      complete: swarm.complete,
      incomplete: swarm.incomplete,
      downloaded: swarm.downloaded,
      peers: this.#sample(swarm, ref, seeder, a.numwant),
      stored,
    };
  }

  /** Splits `want` over the eligible lists by size, then samples each in O(its share). */
  #sample(swarm: Swarm, self: number, seeder: boolean, want: number): PeerSample {
    // A seeder gains nothing from other seeders.
    const ids = seeder ? SEEDER_WANTS : LEECHER_WANTS;
    const selfId = self >= 0 ? self & 7 : -1;
    let total = 0;
    for (const id of ids) total += swarm.lists[id]?.length ?? 0;
    if (ids.includes(selfId)) total--;
    if (want <= 0 || total <= 0) return EMPTY_SAMPLE;
    const sample = this.#sampleScratch;
    sample.reset();
    const share = Math.min(1, want / total);
    let left = Math.min(want, total);
    // The last non-empty list takes the rounding remainder.
    let lastId = -1;
    for (const id of ids) if ((swarm.lists[id]?.length ?? 0) > 0) lastId = id;
    for (const id of ids) {
      const list = swarm.lists[id];
      if (!list || list.length === 0) continue;
      const skip = id === selfId ? self >> 3 : -1;
      const mine = skip >= 0 ? list.length - 1 : list.length;
      const ask = id === lastId ? left : Math.min(left, Math.round(mine * share));
      if (ask <= 0 || mine <= 0) continue;
      sample.beginPart(id);
      const count = sampleRuns(list, ask, skip, this.#random, sample);
      sample.endPart(count);
      left -= count;
    }
    return sample;
  }

  #remove(swarm: Swarm, ref: number): void {
    const list = swarm.lists[ref & 7]!;
    if ((list.flagsAt(ref >> 3) & SEEDER) !== 0) this.#seeders--;
    this.#peers--;
    swarm.remove(ref);
  }

  scrape(infoHash: string): SwarmCounts | undefined {
    const swarm = this.#swarms.get(infoHash);
    return swarm ? countsOf(swarm) : undefined;
  }

  infoHashes(): IterableIterator<string> {
    return this.#swarms.keys();
  }

  totals(): StoreTotals {
    return {
      swarms: this.#swarms.size,
      peers: this.#peers,
      seeders: this.#seeders,
      leechers: this.#peers - this.#seeders,
    };
  }

  sweep(cutoff: number): number {
    let removed = 0;
    for (const [infoHash, swarm] of this.#swarms) {
      for (let id = 0; id < LIST_COUNT; id++) {
        const list = swarm.lists[id];
        if (!list) continue;
        // Backwards: swap-remove only ever moves an entry that was already looked at.
        for (let i = list.length - 1; i >= 0; i--) {
          if (list.seen[i]! < cutoff) {
            this.#remove(swarm, (i << 3) | id);
            removed++;
          }
        }
      }
      // An empty swarm keeps its entry only for its completed counter.
      if (swarm.size === 0 && swarm.downloaded === 0) this.#swarms.delete(infoHash);
    }
    return removed;
  }

  *checkablePeers(): IterableIterator<{ infoHash: string; peer: PeerRecord }> {
    for (const [infoHash, swarm] of this.#swarms) {
      for (let id = 0; id < LIST_COUNT; id++) {
        const list = swarm.lists[id];
        if (!list) continue;
        for (let i = 0; i < list.length; i++) {
          if ((list.flagsAt(i) & CHECKABLE) !== 0) yield { infoHash, peer: recordOf(list, id, i) };
        }
      }
    }
  }

  recordCheck(infoHash: string, key: string, ok: boolean): void {
    const swarm = this.#swarms.get(infoHash);
    if (!swarm) return;
    const ref = swarm.find(hashKey(key), key);
    if (ref < 0) return;
    const id = ref & 7;
    const list = swarm.lists[id]!;
    const i = ref >> 3;
    list.setFailures(i, ok ? 0 : list.failuresAt(i) + 1);
    const parked = id >= PARKED4;
    if (!ok && list.failuresAt(i) >= this.#maxFailures && !parked) {
      swarm.move(ref, id >= SEEDERS6 ? PARKED6 : PARKED4);
    } else if (ok && parked) {
      const seeder = (list.flagsAt(i) & SEEDER) !== 0;
      swarm.move(ref, activeListId(id === PARKED6, seeder));
    }
  }
}

/** The compact address (BEP 23 / BEP 7) as a binary string, in one call for the common IPv4. */
function compactAddress(ip: Uint8Array, port: number): string {
  if (ip.length === 4) {
    return String.fromCharCode(ip[0]!, ip[1]!, ip[2]!, ip[3]!, port >> 8, port & 0xff);
  }
  return toBinary(ip) + String.fromCharCode(port >> 8, port & 0xff);
}

function countsOf(swarm: Swarm): SwarmCounts {
  return {
    complete: swarm.complete,
    incomplete: swarm.incomplete,
    downloaded: swarm.downloaded,
  };
}
