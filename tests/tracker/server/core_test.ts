import assert from "node:assert/strict";
import {
  type AnnounceOutcome,
  type AnnounceParams,
  createTrackerCore,
  MAX_NUMWANT,
  type TrackerCore,
  type TrackerCoreOptions,
  TrackerRequestError,
} from "../../../src/tracker/server/mod.ts";
import { HASH_A, HASH_B, peerId, text } from "./helpers.ts";

// The core without any transport: params objects in, outcomes (or refusals) out.

const HEX_B = [...HASH_B].map((b) => b.toString(16).padStart(2, "0")).join("");

async function testCore(options: TrackerCoreOptions = {}) {
  let clock = 1_000_000;
  const core = await createTrackerCore({
    now: () => clock,
    sweepIntervalMs: 3_600_000,
    ...options,
  });
  return Object.assign(core, {
    advance(ms: number) {
      clock += ms;
    },
  });
}

function params(tag: string, o: Partial<AnnounceParams> = {}): AnnounceParams {
  return {
    infoHash: text(HASH_A),
    peerId: peerId(tag),
    port: 6881,
    left: 100,
    uploaded: 0,
    downloaded: 0,
    event: "started",
    numwant: undefined,
    ...o,
  };
}

const from = (...ip: number[]) => ({ ip: Uint8Array.from(ip) });

/** The peers of an outcome as "a.b.c.d:port" (read at once: the sample is reused). */
function peersOf(outcome: AnnounceOutcome): string[] {
  const out = new Uint8Array(outcome.peers.count4 * 6);
  outcome.peers.writeCompact4(out, 0);
  const list: string[] = [];
  for (let i = 0; i < out.length; i += 6) {
    list.push(`${out.subarray(i, i + 4).join(".")}:${(out[i + 4]! << 8) | out[i + 5]!}`);
  }
  return list.sort();
}

function refusal(core: TrackerCore, p: AnnounceParams, source: { ip: Uint8Array | undefined }) {
  try {
    core.announce(p, source);
  } catch (e) {
    assert.ok(e instanceof TrackerRequestError, `not a TrackerRequestError: ${e}`);
    return e.reason;
  }
  assert.fail("announce was not refused");
}

Deno.test("core: two peers find each other, never themselves", async () => {
  const core = await testCore();
  try {
    const first = core.announce(params("a", { port: 1 }), from(10, 0, 0, 1));
    assert.deepEqual([first.complete, first.incomplete, first.stored], [0, 1, true]);
    assert.deepEqual(peersOf(first), []);
    const second = core.announce(params("b", { port: 2 }), from(10, 0, 0, 2));
    assert.equal(second.incomplete, 2);
    assert.deepEqual(peersOf(second), ["10.0.0.1:1"]);
    const again = core.announce(params("a", { port: 1, event: undefined }), from(10, 0, 0, 1));
    assert.deepEqual(peersOf(again), ["10.0.0.2:2"]);
  } finally {
    await core.close();
  }
});

Deno.test("core: a seeder gets only leechers; completed and stopped update the counts", async () => {
  const core = await testCore();
  try {
    core.announce(params("s1", { left: 0, port: 1 }), from(10, 0, 0, 1));
    core.announce(params("l1", { port: 2 }), from(10, 0, 0, 2));
    const seeder = core.announce(params("s2", { left: 0, port: 3 }), from(10, 0, 0, 3));
    assert.deepEqual([seeder.complete, seeder.incomplete], [2, 1]);
    assert.deepEqual(peersOf(seeder), ["10.0.0.2:2"]);
    const done = core.announce(
      params("l1", { left: 0, port: 2, event: "completed" }),
      from(10, 0, 0, 2),
    );
    assert.deepEqual([done.complete, done.incomplete, done.downloaded], [3, 0, 1]);
    const gone = core.announce(params("s1", { port: 1, event: "stopped" }), from(10, 0, 0, 1));
    assert.deepEqual([gone.complete, gone.stored, peersOf(gone)], [2, false, []]);
  } finally {
    await core.close();
  }
});

Deno.test("core: refusals are TrackerRequestErrors with the client's reason", async () => {
  const core = await testCore({ whitelist: true, allowedInfoHashes: [HEX_B], allowIpParam: true });
  try {
    assert.equal(refusal(core, params("a"), from(10, 0, 0, 1)), "unregistered torrent");
    const b = { infoHash: text(HASH_B) };
    assert.equal(refusal(core, params("a", b), { ip: undefined }), "cannot tell your IP address");
    assert.equal(
      refusal(core, params("a", { ...b, ip: "nope" }), from(10, 0, 0, 1)),
      'invalid ip: "nope"',
    );
    assert.deepEqual(core.store.totals().peers, 0);
    assert.equal(core.stats().announces, 0, "refused announces are not counted");
  } finally {
    await core.close();
  }
});

Deno.test("core: whitelist tracks listed hashes only, in announce and scrape", async () => {
  const core = await testCore({ whitelist: true, allowedInfoHashes: [` ${HEX_B.toUpperCase()} `] });
  try {
    assert.equal(core.tracked(text(HASH_A)), false);
    assert.equal(core.tracked(text(HASH_B)), true);
    const ok = core.announce(params("a", { infoHash: text(HASH_B) }), from(10, 0, 0, 1));
    assert.equal(ok.incomplete, 1);
    const files = core.scrape([text(HASH_A), text(HASH_B)]);
    assert.deepEqual(files, [[text(HASH_B), { complete: 0, incomplete: 1, downloaded: 0 }]]);
  } finally {
    await core.close();
  }
  const open = await testCore();
  try {
    assert.equal(open.tracked(text(HASH_A)), true);
  } finally {
    await open.close();
  }
});

Deno.test("core: the ip param counts only with allowIpParam; a claimed address is not dialled", async () => {
  const plain = await testCore();
  const allowing = await testCore({ allowIpParam: true });
  try {
    for (const core of [plain, allowing]) {
      core.announce(params("a", { port: 1, ip: "1.2.3.4" }), from(10, 0, 0, 1));
      // A claimed address equal to the socket's stays checkable.
      core.announce(params("b", { port: 2, ip: "10.0.0.2" }), from(10, 0, 0, 2));
    }
    // Claimed, with no socket address at all (a transport that cannot tell).
    const c = params("c", { port: 3, ip: "::ffff:5.6.7.8" });
    assert.equal(refusal(plain, c, { ip: undefined }), "cannot tell your IP address");
    allowing.announce(c, { ip: undefined });
    const me = params("me", { port: 9 });
    assert.deepEqual(peersOf(plain.announce(me, from(10, 0, 0, 9))), [
      "10.0.0.1:1",
      "10.0.0.2:2",
    ]);
    assert.deepEqual(peersOf(allowing.announce(me, from(10, 0, 0, 9))), [
      "1.2.3.4:1",
      "10.0.0.2:2",
      "5.6.7.8:3",
    ]);
    const checkable = [...allowing.store.checkablePeers()].map(({ peer }) => {
      const a = peer.key.slice(20);
      return `${[...a.slice(0, 4)].map((c) => c.charCodeAt(0)).join(".")}:${
        (a.charCodeAt(4) << 8) | a.charCodeAt(5)
      }`;
    });
    assert.deepEqual(checkable.sort(), ["10.0.0.2:2", "10.0.0.9:9"]);
  } finally {
    await plain.close();
    await allowing.close();
  }
});

Deno.test("core: numwant defaults to 50 and is capped at 200", async () => {
  const core = await testCore();
  try {
    for (let i = 0; i < 300; i++) {
      core.announce(params(`p${i}`, { port: 1000 + i, numwant: 0 }), from(10, 1, i >> 8, i & 255));
    }
    const count = (numwant: number | undefined) =>
      peersOf(core.announce(params("me", { numwant }), from(10, 9, 9, 9))).length;
    assert.equal(count(undefined), 50);
    assert.equal(count(-1), 50);
    assert.equal(count(7), 7);
    assert.equal(count(0), 0);
    assert.equal(count(100_000), MAX_NUMWANT);
  } finally {
    await core.close();
  }
});

Deno.test("core: scrape counts asked-for swarms, or all of them for an empty list", async () => {
  const core = await testCore();
  try {
    core.announce(params("s", { left: 0, port: 1 }), from(10, 0, 0, 1));
    core.announce(params("l", { port: 2 }), from(10, 0, 0, 2));
    core.announce(params("x", { infoHash: text(HASH_B), port: 3 }), from(10, 0, 0, 3));
    const unknown = "u".repeat(20);
    assert.deepEqual(core.scrape([text(HASH_A), unknown]), [
      [text(HASH_A), { complete: 1, incomplete: 1, downloaded: 0 }],
      [unknown, { complete: 0, incomplete: 0, downloaded: 0 }],
    ]);
    assert.deepEqual(core.scrape([]).map(([h]) => h).sort(), [text(HASH_A), text(HASH_B)].sort());
  } finally {
    await core.close();
  }
});

Deno.test("core: stats count peers, announces and their rate, uptime", async () => {
  const core = await testCore();
  try {
    core.announce(params("a", { left: 0, port: 1 }), from(10, 0, 0, 1));
    core.announce(params("b", { port: 2 }), from(10, 0, 0, 2));
    core.advance(1000);
    assert.deepEqual(core.stats(), {
      swarms: 1,
      peers: 2,
      seeders: 1,
      leechers: 1,
      torrents: 0,
      announces: 2,
      // Two announces in the tracker's first second.
      announcesPerSecond: 2,
      uptimeSeconds: 1,
    });
  } finally {
    await core.close();
    // Closing twice is harmless.
    await core.close();
  }
});
