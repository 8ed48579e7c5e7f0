/**
 * Talking to a torrent's trackers: one HTTP request (`announce`, `scrape`, re-exported from
 * `tracker_http.ts`), the BEP 12 tier order (`TrackerTiers`) and a session's announce
 * lifecycle (`Announcer`). Nothing here prints: results and errors go to callbacks.
 * @module
 */
import {
  announce,
  type AnnounceParams,
  type AnnounceResponse,
  checkHttpUrl,
  type Peer,
  type RequestOptions,
} from "./http.ts";
import { TrackerError } from "../protocol/errors.ts";
import type { AnnounceEvent } from "../protocol/types.ts";

export {
  announce,
  type AnnounceParams,
  type AnnounceResponse,
  buildAnnounceUrl,
  type Peer,
  percentEncodeBytes,
  type RequestOptions,
  scrape,
  type ScrapeEntry,
  scrapeUrlFor,
} from "./http.ts";
export { TrackerError, type TrackerErrorKind } from "../protocol/errors.ts";
export type { AnnounceEvent } from "../protocol/types.ts";

/** Waits `ms`, rejecting early when `signal` aborts. Injected in tests. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** Runs `fn` after `ms` and returns a function that cancels it. Injected in tests. */
export type Schedule = (fn: () => void, ms: number) => () => void;

export interface TrackerTiersOptions {
  /** The single-tracker request; defaults to the HTTP `announce`. */
  announce?: (url: string, params: AnnounceParams, o: RequestOptions) => Promise<AnnounceResponse>;
  /** Source of randomness for the BEP 12 shuffle (default Math.random). */
  random?: () => number;
  sleep?: Sleep;
  /** Wait after the first round in which every tracker failed; doubles each round. */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /** Per-request timeout (default 15000). */
  timeoutMs?: number;
  /** Every failed request, and once per tracker that cannot be used (e.g. `udp:`). */
  onError?: (error: TrackerError) => void;
}

export interface TiersAnnounceOptions {
  signal?: AbortSignal;
  /** Keep retrying with backoff while every tracker fails (default true). */
  retry?: boolean;
  timeoutMs?: number;
}

interface TrackerState {
  trackerId?: string;
  /** The tracker knows us: a started (or later) announce succeeded and no stopped since. */
  started: boolean;
}

/**
 * The tracker list of a torrent in BEP 12 order. Each tier is shuffled once; announces go
 * tier by tier, tracker by tracker, until one answers, and that tracker moves to the front of
 * its tier. Per tracker it remembers the `tracker id` and whether it has seen `started`.
 */
export class TrackerTiers {
  readonly #tiers: string[][];
  readonly #unsupported: TrackerError[] = [];
  #unsupportedReported = false;
  readonly #state = new Map<string, TrackerState>();
  readonly #announce: NonNullable<TrackerTiersOptions["announce"]>;
  readonly #sleep: Sleep;
  readonly #options: TrackerTiersOptions;

  constructor(tiers: readonly (readonly string[])[], options: TrackerTiersOptions = {}) {
    this.#options = options;
    this.#announce = options.announce ?? announce;
    this.#sleep = options.sleep ?? abortableSleep;
    const random = options.random ?? Math.random;
    const seen = new Set<string>();
    this.#tiers = [];
    for (const tier of tiers) {
      const usable: string[] = [];
      for (const url of tier) {
        if (seen.has(url)) continue;
        seen.add(url);
        try {
          checkHttpUrl(url);
          usable.push(url);
        } catch (e) {
          if (e instanceof TrackerError) this.#unsupported.push(e);
          else throw e;
        }
      }
      if (usable.length > 0) this.#tiers.push(shuffle(usable, random));
    }
  }

  /** The current order (tiers, then trackers), as copies. */
  get tiers(): string[][] {
    return this.#tiers.map((t) => [...t]);
  }

  /** Trackers that currently know us (for the final `stopped`). */
  get announcedTo(): string[] {
    return [...this.#state].filter(([, s]) => s.started).map(([url]) => url);
  }

  /**
   * Announces to the first tracker that answers, in tier order. With `retry` (the default)
   * a round in which every tracker failed is followed by a backoff wait and another round.
   * @throws {TrackerError} when cancelled (kind "aborted"), when there is no usable tracker,
   * or, without `retry`, with the last failure.
   */
  async announce(
    params: AnnounceParams,
    options: TiersAnnounceOptions = {},
  ): Promise<{ url: string; response: AnnounceResponse }> {
    this.#reportUnsupported();
    if (this.#tiers.length === 0) {
      const why = this.#unsupported.map((e) => e.message).join("; ");
      throw new TrackerError("", "unsupported", `no usable tracker${why ? ` (${why})` : ""}`);
    }
    const initial = this.#options.backoffInitialMs ?? 10_000;
    const max = this.#options.backoffMaxMs ?? 15 * 60_000;
    for (let round = 0;; round++) {
      let last: TrackerError | undefined;
      for (const tier of this.#tiers) {
        for (const url of [...tier]) {
          try {
            const response = await this.announceTo(url, params, options);
            tier.splice(tier.indexOf(url), 1);
            tier.unshift(url);
            return { url, response };
          } catch (e) {
            const error = e instanceof TrackerError
              ? e
              : new TrackerError(url, "network", e instanceof Error ? e.message : String(e));
            if (options.signal?.aborted) throw abortedError(url);
            last = error;
            this.#options.onError?.(error);
          }
        }
      }
      if (options.retry === false) throw last ?? abortedError("");
      try {
        await this.#sleep(Math.min(max, initial * 2 ** Math.min(round, 30)), options.signal);
      } catch {
        throw abortedError("");
      }
      if (options.signal?.aborted) throw abortedError("");
    }
  }

  /**
   * One request to one tracker, adding its `tracker id` and turning a regular announce into
   * `started` for a tracker that has not seen us yet (e.g. after a fallback to another tier).
   */
  async announceTo(
    url: string,
    params: AnnounceParams,
    options: TiersAnnounceOptions = {},
  ): Promise<AnnounceResponse> {
    let state = this.#state.get(url);
    if (!state) this.#state.set(url, state = { started: false });
    const request: AnnounceParams = { ...params };
    if (state.trackerId !== undefined && request.trackerId === undefined) {
      request.trackerId = state.trackerId;
    }
    if (request.event === undefined && !state.started) request.event = "started";
    const requestOptions: RequestOptions = {};
    if (options.signal) requestOptions.signal = options.signal;
    const timeoutMs = options.timeoutMs ?? this.#options.timeoutMs;
    if (timeoutMs !== undefined) requestOptions.timeoutMs = timeoutMs;
    const response = await this.#announce(url, request, requestOptions);
    if (response.trackerId !== undefined) state.trackerId = response.trackerId;
    state.started = request.event !== "stopped";
    return response;
  }

  /** Sends `stopped` to every tracker that knows us, in parallel; failures go to onError. */
  async stopAll(params: AnnounceParams, options: TiersAnnounceOptions = {}): Promise<void> {
    const results = await Promise.allSettled(
      this.announcedTo.map((url) =>
        this.announceTo(url, { ...params, event: "stopped" }, { ...options, retry: false })
      ),
    );
    for (const r of results) {
      if (r.status === "rejected" && r.reason instanceof TrackerError) {
        this.#options.onError?.(r.reason);
      }
    }
  }

  #reportUnsupported() {
    if (this.#unsupportedReported) return;
    this.#unsupportedReported = true;
    for (const e of this.#unsupported) this.#options.onError?.(e);
  }
}

export interface AnnouncerOptions {
  infoHash: Uint8Array;
  peerId: Uint8Array;
  port: number;
  key?: string;
  numwant?: number;
  /** BEP 3 `ip` sent with every announce (see AnnounceParams.ip). */
  ip?: string;
  /** Current transfer totals, read at every announce. */
  stats(): { uploaded: number; downloaded: number; left: number };
  /** Peers from each successful announce (not from `stopped`). */
  onPeers(peers: Peer[], url: string): void;
  /** Failed requests and unusable trackers; the Announcer keeps going after them. */
  onError?(error: TrackerError): void;
  /** Every successful response, e.g. for seed/leecher counts. */
  onResponse?(response: AnnounceResponse, url: string, event: AnnounceEvent | undefined): void;
  /** Options for the TrackerTiers the Announcer builds (its onError is the Announcer's). */
  trackers?: Omit<TrackerTiersOptions, "onError">;
  schedule?: Schedule;
  now?: () => number;
  /** Cap on the final `stopped` requests (default 5000 ms). */
  stopTimeoutMs?: number;
  /** Floor for the re-announce interval, against trackers that ask for 0 (default 5000). */
  minimumIntervalMs?: number;
}

type AnnouncerState = "idle" | "running" | "stopped";

/**
 * A session's announces: `started` on start, a regular announce every `interval` (never
 * sooner than `min interval`), `completed` when asked, `stopped` on stop. One request is in
 * flight at a time; a newer event supersedes a request that is still retrying.
 */
export class Announcer {
  readonly tiers: TrackerTiers;
  readonly #o: AnnouncerOptions;
  readonly #schedule: Schedule;
  readonly #now: () => number;
  #state: AnnouncerState = "idle";
  #chain: Promise<void> = Promise.resolve();
  #abort: AbortController | undefined;
  #inFlight = false;
  #cancelTimer: (() => void) | undefined;
  #lastAnnounceAt: number | undefined;
  #minIntervalMs = 0;
  #completedPending = false;
  /** `completed()` was asked for and no tracker has acknowledged it yet. */
  #completedOwed = false;
  #everStarted = false;

  constructor(tiers: readonly (readonly string[])[], options: AnnouncerOptions) {
    this.#o = options;
    this.#schedule = options.schedule ?? defaultSchedule;
    this.#now = options.now ?? Date.now;
    this.tiers = new TrackerTiers(tiers, {
      ...options.trackers,
      onError: (e) => this.#o.onError?.(e),
    });
  }

  /** Sends `started` (retrying with backoff); resolves once it succeeded or gave up. */
  start(): Promise<void> {
    if (this.#state !== "idle") return Promise.resolve();
    this.#state = "running";
    return this.#run("started");
  }

  /** Sends `completed` (only call it for a download that finished while running). */
  completed(): Promise<void> {
    if (this.#state !== "running") return Promise.resolve();
    this.#completedOwed = true;
    return this.#run("completed");
  }

  /** Asks for peers now, or as soon as the tracker's `min interval` allows. */
  announceNow(): void {
    if (this.#state !== "running" || this.#inFlight || this.#lastAnnounceAt === undefined) return;
    const wait = this.#lastAnnounceAt + this.#minIntervalMs - this.#now();
    if (wait > 0) this.#scheduleNext(wait);
    else void this.#run(undefined);
  }

  /**
   * Stops announcing: cancels the timer and any request in flight, then sends `stopped` to
   * the trackers that know us, bounded by `stopTimeoutMs`. Never rejects.
   */
  async stop(): Promise<void> {
    if (this.#state === "stopped") return;
    if (this.#completedOwed && this.#state === "running") {
      // Trackers count finished downloads by `completed`: a download that stops right after
      // finishing lets that request out first (bounded), rather than aborting it.
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        this.#chain,
        new Promise((r) => timer = setTimeout(r, this.#o.stopTimeoutMs ?? 5000)),
      ]);
      clearTimeout(timer);
    }
    const wasRunning = this.#state === "running";
    this.#state = "stopped";
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
    this.#abort?.abort();
    await this.#chain;
    if (!wasRunning || !this.#everStarted) return;
    await this.tiers.stopAll(
      { ...this.#baseParams(), event: "stopped" },
      { timeoutMs: this.#o.stopTimeoutMs ?? 5000 },
    );
  }

  #run(event: AnnounceEvent | undefined): Promise<void> {
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
    if (event !== undefined) this.#abort?.abort();
    const next = this.#chain.then(() => this.#announceOnce(event));
    // Only TrackerErrors are expected here; anything else (a throwing callback) is a bug that
    // reaches the caller of start()/completed() but must not wedge later announces.
    this.#chain = next.catch(() => {});
    return next;
  }

  async #announceOnce(requested: AnnounceEvent | undefined): Promise<void> {
    if (this.#state !== "running") return;
    let event = requested;
    // A superseded `started` must still be the first thing the tracker hears from us.
    if (!this.#everStarted) {
      if (event === "completed") this.#completedPending = true;
      event = "started";
    }
    const abort = new AbortController();
    this.#abort = abort;
    this.#inFlight = true;
    try {
      const params: AnnounceParams = { ...this.#baseParams() };
      if (event !== undefined) params.event = event;
      const { url, response } = await this.tiers.announce(params, { signal: abort.signal });
      this.#everStarted = true;
      this.#lastAnnounceAt = this.#now();
      this.#minIntervalMs = (response.minInterval ?? 0) * 1000;
      if (event === "completed") this.#completedOwed = false;
      this.#o.onResponse?.(response, url, event);
      if (response.peers.length > 0) this.#o.onPeers(response.peers, url);
      if (this.#state !== "running") return;
      if (this.#completedPending && event === "started") {
        this.#completedPending = false;
        void this.#run("completed");
        return;
      }
      const seconds = Math.max(response.interval, response.minInterval ?? 0);
      this.#scheduleNext(Math.max(seconds * 1000, this.#o.minimumIntervalMs ?? 5000));
    } catch (e) {
      const aborted = e instanceof TrackerError && e.kind === "aborted";
      if (!aborted && e instanceof TrackerError) this.#o.onError?.(e);
      else if (!aborted) throw e;
    } finally {
      this.#inFlight = false;
      if (this.#abort === abort) this.#abort = undefined;
    }
  }

  #scheduleNext(ms: number) {
    this.#cancelTimer?.();
    this.#cancelTimer = this.#schedule(() => {
      this.#cancelTimer = undefined;
      void this.#run(undefined);
    }, ms);
  }

  #baseParams(): AnnounceParams {
    const stats = this.#o.stats();
    const params: AnnounceParams = {
      infoHash: this.#o.infoHash,
      peerId: this.#o.peerId,
      port: this.#o.port,
      uploaded: stats.uploaded,
      downloaded: stats.downloaded,
      left: stats.left,
    };
    if (this.#o.key !== undefined) params.key = this.#o.key;
    if (this.#o.numwant !== undefined) params.numwant = this.#o.numwant;
    if (this.#o.ip !== undefined) params.ip = this.#o.ip;
    return params;
  }
}

function abortedError(url: string) {
  return new TrackerError(url, "aborted", "announce cancelled");
}

/** Fisher-Yates, in place; returns the array. */
function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

const defaultSchedule: Schedule = (fn, ms) => {
  const id = setTimeout(fn, ms);
  return () => clearTimeout(id);
};

/** setTimeout as a promise that rejects (and clears its timer) when `signal` aborts. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(id);
      reject(signal?.reason);
    };
    const id = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
