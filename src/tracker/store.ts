/**
 * The swarm store: who is in which swarm. Kept behind {@link SwarmStore} so a shared backend
 * can replace the in-memory one later. Keys are binary strings (one char per byte).
 */
import { PeerList, type Run, sampleRuns } from "./peer_list.ts";

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
  event: "started" | "completed" | "stopped" | "paused" | "";
  numwant: number;
  /** False when the address came from the `ip` parameter: health checks never dial it. */
  checkable: boolean;
}

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

export interface SwarmCounts {
  complete: number;
  incomplete: number;
  downloaded: number;
}

export interface AnnounceOutcome extends SwarmCounts {
  /** Up to numwant other peers; never the announcing peer, never seeders for a seeder. */
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

class Peer implements PeerRecord {
  index = 0;
  /** The list it is in; undefined while set aside after failed health checks. */
  list: PeerList<Peer> | undefined = undefined;
  seeder = false;
  lastSeen = 0;
  left = -1;
  uploaded = 0;
  downloaded = 0;
  failures = 0;
  /** This peer's `completed` was already counted in the swarm's downloaded counter. */
  counted = false;
  constructor(readonly key: string, readonly checkable: boolean) {}
}

const V4_KEY_LENGTH = 20 + 6;

class Swarm {
  readonly peers = new Map<string, Peer>();
  readonly seeders4 = new PeerList<Peer>(6);
  readonly leechers4 = new PeerList<Peer>(6);
  // Most swarms never see IPv6: those lists are made on first use.
  seeders6: PeerList<Peer> | undefined;
  leechers6: PeerList<Peer> | undefined;
  downloaded = 0;

  listFor(peer: Peer): PeerList<Peer> {
    if (peer.key.length === V4_KEY_LENGTH) return peer.seeder ? this.seeders4 : this.leechers4;
    if (peer.seeder) return this.seeders6 ??= new PeerList<Peer>(18);
    return this.leechers6 ??= new PeerList<Peer>(18);
  }

  get complete(): number {
    return this.seeders4.length + (this.seeders6?.length ?? 0);
  }

  get incomplete(): number {
    return this.leechers4.length + (this.leechers6?.length ?? 0);
  }
}

/** Runs taken from one list, with how many peers they hold (self left out, capped). */
interface Part {
  runs: Run<Peer>[];
  count: number;
}

class RunSample implements PeerSample {
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
          fn(run.list.peers[i]!);
          left--;
        }
      }
    }
  }
}

function writeParts(parts: Part[], size: number, out: Uint8Array, at: number): number {
  for (const part of parts) {
    let left = part.count;
    for (const run of part.runs) {
      if (left <= 0) break;
      const { bytes } = run.list;
      if (run.skip < 0) {
        const n = Math.min(run.length, left);
        out.set(bytes.subarray(run.start * size, (run.start + n) * size), at);
        at += n * size;
        left -= n;
        continue;
      }
      for (let i = run.start; i < run.start + run.length && left > 0; i++) {
        if (i === run.skip) continue;
        out.set(bytes.subarray(i * size, (i + 1) * size), at);
        at += size;
        left--;
      }
    }
  }
  return at;
}

const EMPTY_SAMPLE = new RunSample();

/** The default store: everything in this process's memory. */
export class MemorySwarmStore implements SwarmStore {
  readonly #swarms = new Map<string, Swarm>();
  readonly #maxSwarms: number;
  readonly #maxPeers: number;
  readonly #maxFailures: number;
  readonly #random: () => number;
  #peers = 0;
  #seeders = 0;

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
    let key = a.peerId;
    for (let i = 0; i < a.ip.length; i++) key += String.fromCharCode(a.ip[i]!);
    key += String.fromCharCode(a.port >> 8, a.port & 0xff);
    let peer = swarm.peers.get(key);
    const seeder = a.left === 0;
    if (a.event === "stopped") {
      if (peer) this.#remove(swarm, peer);
      return { ...countsOf(swarm), peers: EMPTY_SAMPLE, stored: false };
    }
    let stored = true;
    if (peer) {
      if (peer.seeder !== seeder) {
        this.#seeders += seeder ? 1 : -1;
        if (peer.list) {
          peer.list.remove(peer);
          peer.seeder = seeder;
          (peer.list = swarm.listFor(peer)).add(peer);
        } else {
          peer.seeder = seeder;
        }
      }
    } else if (swarm.peers.size < this.#maxPeers) {
      peer = new Peer(key, a.checkable);
      peer.seeder = seeder;
      swarm.peers.set(key, peer);
      (peer.list = swarm.listFor(peer)).add(peer);
      this.#peers++;
      if (seeder) this.#seeders++;
    } else {
      stored = false;
    }
    if (peer) {
      peer.lastSeen = now;
      peer.left = a.left;
      peer.uploaded = a.uploaded;
      peer.downloaded = a.downloaded;
    }
    if (a.event === "completed" && !(peer?.counted ?? false)) {
      swarm.downloaded++;
      if (peer) peer.counted = true;
    }
    return {
      complete: swarm.complete,
      incomplete: swarm.incomplete,
      downloaded: swarm.downloaded,
      peers: this.#sample(swarm, peer, seeder, a.numwant),
      stored,
    };
  }

  /** Splits `want` over the eligible lists by size, then samples each in O(its share). */
  #sample(swarm: Swarm, self: Peer | undefined, seeder: boolean, want: number): PeerSample {
    // A seeder gains nothing from other seeders.
    const lists: PeerList<Peer>[] = seeder ? [swarm.leechers4] : [swarm.seeders4, swarm.leechers4];
    if (!seeder && swarm.seeders6) lists.push(swarm.seeders6);
    if (swarm.leechers6) lists.push(swarm.leechers6);
    let total = 0;
    for (const l of lists) total += l.length;
    if (self?.list && lists.includes(self.list)) total--;
    const sample = new RunSample();
    if (want <= 0 || total <= 0) return sample;
    const share = Math.min(1, want / total);
    let left = Math.min(want, total);
    for (let i = 0; i < lists.length; i++) {
      const list = lists[i]!;
      const mine = list === self?.list ? list.length - 1 : list.length;
      // The last list takes the rounding remainder.
      const ask = i === lists.length - 1 ? left : Math.min(left, Math.round(mine * share));
      if (ask <= 0 || mine <= 0) continue;
      const runs: Run<Peer>[] = [];
      const count = sampleRuns(list, ask, self, this.#random, runs);
      left -= count;
      if (list.entrySize === 6) {
        sample.parts4.push({ runs, count });
        sample.count4 += count;
      } else {
        sample.parts6.push({ runs, count });
        sample.count6 += count;
      }
    }
    return sample;
  }

  #remove(swarm: Swarm, peer: Peer): void {
    swarm.peers.delete(peer.key);
    peer.list?.remove(peer);
    peer.list = undefined;
    this.#peers--;
    if (peer.seeder) this.#seeders--;
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
      for (const peer of swarm.peers.values()) {
        if (peer.lastSeen < cutoff) {
          this.#remove(swarm, peer);
          removed++;
        }
      }
      // An empty swarm keeps its entry only for its completed counter.
      if (swarm.peers.size === 0 && swarm.downloaded === 0) this.#swarms.delete(infoHash);
    }
    return removed;
  }

  *checkablePeers(): IterableIterator<{ infoHash: string; peer: PeerRecord }> {
    for (const [infoHash, swarm] of this.#swarms) {
      for (const peer of swarm.peers.values()) if (peer.checkable) yield { infoHash, peer };
    }
  }

  recordCheck(infoHash: string, key: string, ok: boolean): void {
    const swarm = this.#swarms.get(infoHash);
    const peer = swarm?.peers.get(key);
    if (!swarm || !peer) return;
    peer.failures = ok ? 0 : peer.failures + 1;
    if (!ok && peer.failures >= this.#maxFailures && peer.list) {
      peer.list.remove(peer);
      peer.list = undefined;
    } else if (ok && !peer.list) {
      (peer.list = swarm.listFor(peer)).add(peer);
    }
  }
}

function countsOf(swarm: Swarm): SwarmCounts {
  return {
    complete: swarm.complete,
    incomplete: swarm.incomplete,
    downloaded: swarm.downloaded,
  };
}
