import assert from "node:assert/strict";
import {
  type AnnounceParams,
  Announcer,
  type AnnounceResponse,
  type AnnouncerOptions,
  type Peer,
  TrackerError,
  TrackerTiers,
} from "../../../src/tracker/client/announce.ts";
import { generatePeerId } from "../../../src/client/peers/peer_id.ts";
import { bencoded, closedPort, param, TrackerServer } from "./tracker_server.ts";

const INFO_HASH = new Uint8Array(20).fill(7);

function params(overrides: Partial<AnnounceParams> = {}): AnnounceParams {
  return {
    infoHash: INFO_HASH,
    peerId: generatePeerId(),
    port: 6881,
    uploaded: 0,
    downloaded: 0,
    left: 100,
    ...overrides,
  };
}

/** A fake single-tracker request: the trackers in `up` answer, the rest fail. */
function fakeTrackers(up: Set<string>) {
  const calls: { url: string; event: string | undefined; trackerId: string | undefined }[] = [];
  const fn = (url: string, p: AnnounceParams): Promise<AnnounceResponse> => {
    calls.push({ url, event: p.event, trackerId: p.trackerId });
    if (!up.has(url)) return Promise.reject(new TrackerError(url, "network", "down"));
    return Promise.resolve({ interval: 60, trackerId: `id-${url}`, peers: [] });
  };
  return { calls, fn };
}

/** A sleep that records its durations and resolves at once (or waits for an abort). */
function recordingSleep(block = false) {
  const waits: number[] = [];
  const sleep = (ms: number, signal?: AbortSignal) => {
    waits.push(ms);
    if (!block) return Promise.resolve();
    return new Promise<void>((_, reject) => {
      signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
    });
  };
  return { waits, sleep };
}

// random() = 0.999 keeps Fisher-Yates from moving anything: the tiers stay in input order.
const keepOrder = () => 0.999;

Deno.test("tiers fall back tracker by tracker and promote the one that answers", async () => {
  const { calls, fn } = fakeTrackers(new Set(["http://b/announce", "http://c/announce"]));
  const errors: string[] = [];
  const tiers = new TrackerTiers(
    [["http://a/announce", "http://b/announce"], ["http://c/announce"]],
    { announce: fn, random: keepOrder, onError: (e) => errors.push(e.url) },
  );
  const first = await tiers.announce(params({ event: "started" }));
  assert.equal(first.url, "http://b/announce");
  assert.deepEqual(tiers.tiers, [["http://b/announce", "http://a/announce"], [
    "http://c/announce",
  ]]);
  assert.deepEqual(errors, ["http://a/announce"]);
  // Next time b is asked first, and gets its tracker id back.
  await tiers.announce(params());
  assert.deepEqual(calls.slice(2), [{
    url: "http://b/announce",
    event: undefined,
    trackerId: "id-http://b/announce",
  }]);
  assert.deepEqual(tiers.announcedTo, ["http://b/announce"]);
});

Deno.test("a lower tier is used only when the whole first tier fails", async () => {
  const up = new Set(["http://c/announce"]);
  const { calls, fn } = fakeTrackers(up);
  const tiers = new TrackerTiers([["http://a/announce", "http://b/announce"], [
    "http://c/announce",
  ]], { announce: fn, random: keepOrder });
  const r = await tiers.announce(params());
  assert.equal(r.url, "http://c/announce");
  assert.deepEqual(calls.map((c) => c.url), [
    "http://a/announce",
    "http://b/announce",
    "http://c/announce",
  ]);
  // A tracker that never saw us gets `started` even for a regular announce.
  assert.deepEqual(calls.map((c) => c.event), ["started", "started", "started"]);
});

Deno.test("tiers shuffle within a tier using the injected random source", () => {
  const urls = ["http://1/a", "http://2/a", "http://3/a", "http://4/a"];
  const tiers = new TrackerTiers([urls, ["http://5/a"]], { random: () => 0 });
  // With random() = 0 every step swaps with index 0: [1,2,3,4] -> [2,3,4,1].
  assert.deepEqual(tiers.tiers, [["http://2/a", "http://3/a", "http://4/a", "http://1/a"], [
    "http://5/a",
  ]]);
});

Deno.test("tiers back off exponentially while every tracker is down", async () => {
  const up = new Set<string>();
  const { calls, fn } = fakeTrackers(up);
  const { waits, sleep } = recordingSleep();
  let rounds = 0;
  const tiers = new TrackerTiers([["http://a/announce"], ["http://b/announce"]], {
    announce: (url, p) => {
      if (url === "http://b/announce" && ++rounds === 4) up.add(url);
      return fn(url, p);
    },
    sleep,
    backoffInitialMs: 1000,
    backoffMaxMs: 5000,
  });
  const r = await tiers.announce(params());
  assert.equal(r.url, "http://b/announce");
  assert.deepEqual(waits, [1000, 2000, 4000]);
  assert.equal(calls.length, 8);
  await assert.rejects(
    new TrackerTiers([["http://a/announce"]], { announce: fn }).announce(params(), {
      retry: false,
    }),
    /down/,
  );
});

Deno.test("announce while all trackers are down ends when aborted", async () => {
  const { fn } = fakeTrackers(new Set());
  const { waits, sleep } = recordingSleep(true);
  const tiers = new TrackerTiers([["http://a/announce"]], { announce: fn, sleep });
  const controller = new AbortController();
  const pending = tiers.announce(params(), { signal: controller.signal });
  while (waits.length === 0) await new Promise((r) => setTimeout(r, 1));
  controller.abort();
  await assert.rejects(pending, (e) => e instanceof TrackerError && e.kind === "aborted");
});

Deno.test("udp trackers are skipped with a reason, and no usable tracker is an error", async () => {
  const errors: TrackerError[] = [];
  const tiers = new TrackerTiers([["udp://tracker.example:1337/announce"], ["ftp://x/y"]], {
    onError: (e) => errors.push(e),
  });
  await assert.rejects(tiers.announce(params()), /no usable tracker.*BEP 15/);
  assert.deepEqual(errors.map((e) => e.kind), ["unsupported", "unsupported"]);
  assert.match(errors[0]!.message, /udp:\/\/tracker\.example:1337\/announce.*BEP 15/);
});

/** A scheduler the test fires by hand. */
function manualSchedule() {
  const timers: { fn: () => void; ms: number; cancelled: boolean }[] = [];
  const schedule = (fn: () => void, ms: number) => {
    const t = {
      fn: () => {
        t.cancelled = true;
        fn();
      },
      ms,
      cancelled: false,
    };
    timers.push(t);
    return () => void (t.cancelled = true);
  };
  const pending = () => timers.filter((t) => !t.cancelled);
  return { timers, schedule, pending };
}

function collector() {
  const peers: Peer[][] = [];
  const errors: TrackerError[] = [];
  const responses: (string | undefined)[] = [];
  let onNext: (() => void) | undefined;
  return {
    peers,
    errors,
    responses,
    nextResponse: () => new Promise<void>((r) => onNext = r),
    callbacks: {
      onPeers: (p: Peer[]) => peers.push(p),
      onError: (e: TrackerError) => errors.push(e),
      onResponse: (_r: AnnounceResponse, _url: string, event: string | undefined) => {
        responses.push(event);
        onNext?.();
      },
    },
  };
}

/** An Announcer for one tracker URL: info hash, a fresh peer id and port 7000, plus `options`. */
function announcerFor(
  url: string,
  options:
    & Omit<AnnouncerOptions, "infoHash" | "peerId" | "port" | "onPeers">
    & Partial<Pick<AnnouncerOptions, "onPeers">>,
) {
  return new Announcer([[url]], {
    infoHash: INFO_HASH,
    peerId: generatePeerId(),
    port: 7000,
    onPeers: () => {},
    ...options,
  });
}

Deno.test("Announcer runs started, periodic, completed, stopped in order", async () => {
  const server = new TrackerServer();
  try {
    server.reply = () =>
      bencoded({ interval: 120, "min interval": 300, peers: Uint8Array.of(127, 0, 0, 1, 0, 80) });
    const { schedule, pending } = manualSchedule();
    const c = collector();
    let left = 100;
    const announcer = announcerFor(`${server.url}/announce`, {
      key: "k1",
      stats: () => ({ uploaded: 1, downloaded: 100 - left, left }),
      schedule,
      ...c.callbacks,
    });
    await announcer.start();
    // min interval (300 s) is larger than interval (120 s), so it wins.
    assert.deepEqual(pending().map((t) => t.ms), [300_000]);
    left = 40;
    const periodic = c.nextResponse();
    pending()[0]!.fn();
    await periodic;
    left = 0;
    await announcer.completed();
    await announcer.stop();
    assert.deepEqual(pending(), []);
    const events = server.requests.map((r) => param(r, "event"));
    assert.deepEqual(events, ["started", undefined, "completed", "stopped"]);
    assert.deepEqual(server.requests.map((r) => param(r, "left")), ["100", "40", "0", "0"]);
    assert.ok(
      server.requests.every((r) => param(r, "key") === "k1" && param(r, "port") === "7000"),
    );
    assert.deepEqual(c.responses, ["started", undefined, "completed"]);
    assert.equal(c.peers.length, 3);
    assert.deepEqual(c.peers[0], [{ hostname: "127.0.0.1", port: 80 }]);
    assert.deepEqual(c.errors, []);
  } finally {
    await server.close();
  }
});

Deno.test("Announcer.stop never hangs on a silent tracker", async () => {
  const server = new TrackerServer();
  try {
    const { schedule } = manualSchedule();
    const c = collector();
    const announcer = announcerFor(`${server.url}/announce`, {
      stats: () => ({ uploaded: 0, downloaded: 0, left: 5 }),
      schedule,
      stopTimeoutMs: 50,
      ...c.callbacks,
    });
    await announcer.start();
    server.reply = () => server.hang();
    await announcer.stop();
    assert.equal(param(server.requests[1]!, "event"), "stopped");
    assert.deepEqual(c.errors.map((e) => e.kind), ["timeout"]);
  } finally {
    await server.close();
  }
});

Deno.test("Announcer.stop cancels a start that is still retrying, sending no stopped", async () => {
  const { waits, sleep } = recordingSleep(true);
  const c = collector();
  const announcer = announcerFor(`http://127.0.0.1:${closedPort()}/announce`, {
    stats: () => ({ uploaded: 0, downloaded: 0, left: 5 }),
    trackers: { sleep },
    ...c.callbacks,
  });
  const started = announcer.start();
  while (waits.length === 0) await new Promise((r) => setTimeout(r, 1));
  await announcer.stop();
  await started;
  assert.deepEqual(c.errors.map((e) => e.kind), ["network"]);
  assert.deepEqual(c.responses, []);
});

Deno.test("completed before started succeeded is sent after started", async () => {
  const server = new TrackerServer();
  try {
    const { schedule } = manualSchedule();
    const c = collector();
    const announcer = announcerFor(`${server.url}/announce`, {
      stats: () => ({ uploaded: 0, downloaded: 5, left: 0 }),
      schedule,
      ...c.callbacks,
    });
    const held = server.nextRequest();
    server.reply = () => server.hang();
    const started = announcer.start();
    await held;
    server.reply = () => bencoded({ interval: 60, peers: new Uint8Array(0) });
    const bothDone = c.nextResponse().then(() => c.nextResponse());
    await announcer.completed();
    await started;
    await bothDone;
    await announcer.stop();
    // The held `started` was cancelled; a new started then completed went out.
    assert.deepEqual(c.responses, ["started", "completed"]);
    assert.deepEqual(server.requests.map((r) => param(r, "event")).slice(1), [
      "started",
      "completed",
      "stopped",
    ]);
  } finally {
    await server.close();
  }
});

Deno.test("stop right after completed lets completed reach the tracker before stopped", async () => {
  const server = new TrackerServer();
  try {
    server.reply = () => bencoded({ interval: 120, peers: new Uint8Array() });
    const { schedule } = manualSchedule();
    const announcer = announcerFor(`${server.url}/announce`, {
      stats: () => ({ uploaded: 0, downloaded: 100, left: 0 }),
      schedule,
    });
    await announcer.start();
    // What a download that finishes and exits does: no await between the two.
    void announcer.completed();
    await announcer.stop();
    assert.deepEqual(server.requests.map((r) => param(r, "event")), [
      "started",
      "completed",
      "stopped",
    ]);
  } finally {
    await server.close();
  }
});
