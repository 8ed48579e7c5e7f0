import assert from "node:assert/strict";
import { decode, isDict } from "../../../src/bencode/mod.ts";
import { announcePath, HASH_A, HASH_B, pct, peerId, testTracker, text } from "./helpers.ts";

function failure(body: Uint8Array): string {
  const d = decode(body);
  assert.ok(isDict(d));
  const reason = d.get("failure reason");
  assert.ok(reason instanceof Uint8Array, `no failure reason in ${text(body)}`);
  return text(reason);
}

Deno.test("announce: compact reply is byte-exact, peer never gets itself", async () => {
  const t = await testTracker({ interval: 1800 });
  try {
    const first = await t.get(announcePath({ id: peerId("a"), port: 6881 }), "10.0.0.1");
    assert.equal(first.status, 200);
    assert.equal(
      text(first.body),
      "d8:completei0e10:downloadedi0e10:incompletei1e8:intervali1800e12:min intervali900e" +
        "5:peers0:e",
    );
    const second = await t.get(announcePath({ id: peerId("b"), port: 6882 }), "192.168.1.2");
    assert.equal(
      text(second.body),
      "d8:completei0e10:downloadedi0e10:incompletei2e8:intervali1800e12:min intervali900e" +
        "5:peers6:" + text(Uint8Array.of(10, 0, 0, 1, 0x1a, 0xe1)) + "e",
    );
  } finally {
    await t.close();
  }
});

Deno.test("announce: non-UTF-8 info_hash is percent-decoded byte by byte", async () => {
  const t = await testTracker();
  try {
    await t.get(announcePath({ hash: HASH_A, id: peerId("a"), port: 1 }));
    // The same bytes with mixed-case hex and literal ASCII where allowed are the same swarm.
    const mixed = [...HASH_A].map((b) => "%" + b.toString(16).toUpperCase()).join("");
    const r = await t.get(`/announce?info_hash=${mixed}&peer_id=${peerId("b")}&port=2&left=1`);
    const d = decode(r.body) as Map<string, unknown>;
    assert.equal(d.get("incomplete"), 2);
    const scrape = await t.get(`/scrape?info_hash=${pct(HASH_A)}`);
    const files = (decode(scrape.body) as Map<string, Map<string, unknown>>).get("files")!;
    assert.deepEqual([...files.keys()], [text(HASH_A)]);
    // "+" is a space (0x20) in a query, "%2B" is a plus.
    const plus = "abcdefghijklmnopqrs+";
    await t.get(`/announce?info_hash=${plus}&peer_id=${peerId("c")}&port=3&left=1`);
    assert.ok(t.store.scrape("abcdefghijklmnopqrs "));
  } finally {
    await t.close();
  }
});

Deno.test("announce: a seeder gets no seeders; counts and event=completed", async () => {
  const t = await testTracker();
  try {
    await t.get(announcePath({ id: peerId("s1"), port: 1, left: 0 }), "10.0.0.1");
    await t.get(announcePath({ id: peerId("l1"), port: 2, left: 5 }), "10.0.0.2");
    const seeder = await t.get(announcePath({ id: peerId("s2"), port: 3, left: 0 }), "10.0.0.3");
    const d = decode(seeder.body) as Map<string, unknown>;
    assert.equal(d.get("complete"), 2);
    assert.equal(d.get("incomplete"), 1);
    assert.deepEqual(d.get("peers"), Uint8Array.of(10, 0, 0, 2, 0, 2));
    const done = await t.get(
      announcePath({ id: peerId("l1"), port: 2, left: 0, extra: "&event=completed" }),
      "10.0.0.2",
    );
    const after = decode(done.body) as Map<string, unknown>;
    assert.equal(after.get("complete"), 3);
    assert.equal(after.get("incomplete"), 0);
    assert.equal(after.get("downloaded"), 1);
    // A repeated completed from the same peer is not counted twice.
    await t.get(
      announcePath({ id: peerId("l1"), port: 2, left: 0, extra: "&event=completed" }),
      "10.0.0.2",
    );
    assert.equal(t.store.scrape(text(HASH_A))?.downloaded, 1);
  } finally {
    await t.close();
  }
});

Deno.test("announce: stopped removes the peer", async () => {
  const t = await testTracker();
  try {
    await t.get(announcePath({ id: peerId("a"), port: 1 }), "10.0.0.1");
    await t.get(announcePath({ id: peerId("b"), port: 2 }), "10.0.0.2");
    const r = await t.get(announcePath({ id: peerId("a"), port: 1, extra: "&event=stopped" }));
    const d = decode(r.body) as Map<string, unknown>;
    assert.equal(d.get("incomplete"), 1);
    assert.deepEqual(d.get("peers"), new Uint8Array(0));
    assert.equal(t.store.totals().peers, 1);
  } finally {
    await t.close();
  }
});

Deno.test("announce: IPv6 peers go to peers6, IPv4-mapped to peers (BEP 7)", async () => {
  const t = await testTracker();
  try {
    await t.get(announcePath({ id: peerId("v6"), port: 0x1234 }), "2001:db8::1");
    await t.get(announcePath({ id: peerId("map"), port: 0x0102 }), "::ffff:192.0.2.7");
    const r = await t.get(announcePath({ id: peerId("me"), port: 9 }), "10.9.9.9");
    const expected6 = Uint8Array.of(
      0x20,
      0x01,
      0x0d,
      0xb8,
      ...new Array(11).fill(0),
      1,
      0x12,
      0x34,
    );
    assert.equal(
      text(r.body),
      "d8:completei0e10:downloadedi0e10:incompletei3e8:intervali1800e12:min intervali900e" +
        "5:peers6:" + text(Uint8Array.of(192, 0, 2, 7, 1, 2)) + "6:peers618:" + text(expected6) +
        "e",
    );
  } finally {
    await t.close();
  }
});

Deno.test("announce: compact=0 gives the dictionary model, no_peer_id drops ids", async () => {
  const t = await testTracker();
  try {
    await t.get(announcePath({ id: peerId("a"), port: 6881 }), "10.0.0.1");
    const full = await t.get(announcePath({ id: peerId("b"), port: 2, extra: "&compact=0" }));
    const peers = (decode(full.body) as Map<string, unknown>).get("peers") as Map<
      string,
      unknown
    >[];
    assert.equal(peers.length, 1);
    assert.equal(text(peers[0]!.get("ip") as Uint8Array), "10.0.0.1");
    assert.equal(peers[0]!.get("port"), 6881);
    assert.equal(text(peers[0]!.get("peer id") as Uint8Array), peerId("a"));
    const noId = await t.get(
      announcePath({ id: peerId("b"), port: 2, extra: "&compact=0&no_peer_id=1" }),
    );
    const p2 = (decode(noId.body) as Map<string, unknown>).get("peers") as Map<string, unknown>[];
    assert.deepEqual([...p2[0]!.keys()], ["ip", "port"]);
  } finally {
    await t.close();
  }
});

Deno.test("announce: numwant caps the sample; default 50, max 200; no duplicates", async () => {
  const t = await testTracker();
  try {
    for (let i = 0; i < 300; i++) {
      t.store.announce({
        infoHash: text(HASH_B),
        peerId: peerId(`p${i}`),
        ip: Uint8Array.of(10, 1, i >> 8, i & 0xff),
        port: 1000 + i,
        left: 1,
        uploaded: 0,
        downloaded: 0,
        event: "started",
        numwant: 0,
        checkable: true,
      }, 0);
    }
    const count = async (extra: string) => {
      const r = await t.get(announcePath({ hash: HASH_B, id: peerId("me"), port: 5, extra }));
      const peers = (decode(r.body) as Map<string, unknown>).get("peers") as Uint8Array;
      const entries = new Set<string>();
      for (let i = 0; i < peers.length; i += 6) entries.add(text(peers.subarray(i, i + 6)));
      assert.equal(entries.size * 6, peers.length, "duplicate peer in a reply");
      return entries.size;
    };
    assert.equal(await count(""), 50);
    assert.equal(await count("&numwant=7"), 7);
    assert.equal(await count("&numwant=0"), 0);
    assert.equal(await count("&numwant=100000"), 200);
  } finally {
    await t.close();
  }
});

Deno.test("announce: every bad request gets a bencoded failure reason with HTTP 200", async () => {
  const t = await testTracker();
  const id = peerId("x");
  const h = pct(HASH_A);
  const cases: [string, RegExp][] = [
    [`/announce?peer_id=${id}&port=1`, /missing info_hash/],
    [`/announce?info_hash=${pct(HASH_A.slice(0, 19))}&peer_id=${id}&port=1`, /20 bytes, got 19/],
    [`/announce?info_hash=${h}%00&peer_id=${id}&port=1`, /20 bytes, got 21/],
    [`/announce?info_hash=%zz${h}&peer_id=${id}&port=1`, /percent-encoding/],
    [`/announce?info_hash=${h}&port=1`, /missing peer_id/],
    [`/announce?info_hash=${h}&peer_id=short&port=1`, /peer_id: must be 20 bytes/],
    [`/announce?info_hash=${h}&peer_id=${id}`, /missing port/],
    [`/announce?info_hash=${h}&peer_id=${id}&port=0`, /port: must be 1 to 65535/],
    [`/announce?info_hash=${h}&peer_id=${id}&port=65536`, /port: must be 1 to 65535/],
    [`/announce?info_hash=${h}&peer_id=${id}&port=http`, /invalid port/],
    [`/announce?info_hash=${h}&peer_id=${id}&port=1&left=-1`, /invalid left/],
    [`/announce?info_hash=${h}&peer_id=${id}&port=1&uploaded=1e3`, /invalid uploaded/],
    [`/announce?info_hash=${h}&peer_id=${id}&port=1&downloaded=x`, /invalid downloaded/],
    [`/announce?info_hash=${h}&peer_id=${id}&port=1&numwant=abc`, /invalid numwant/],
    [`/announce?info_hash=${h}&peer_id=${id}&port=1&event=finished`, /invalid event/],
    [`/scrape?info_hash=abc`, /20 bytes, got 3/],
  ];
  try {
    for (const [path, reason] of cases) {
      const r = await t.get(path);
      assert.equal(r.status, 200, path);
      assert.match(failure(r.body), reason, path);
    }
    assert.equal(t.store.totals().peers, 0);
  } finally {
    await t.close();
  }
});

Deno.test("announce: ip param only with allowIpParam; X-Forwarded-For only with trustProxy", async () => {
  const plain = await testTracker();
  const trusting = await testTracker({ allowIpParam: true, trustProxy: true });
  try {
    for (const t of [plain, trusting]) {
      await t.get(
        announcePath({ id: peerId("a"), port: 1, extra: "&ip=1.2.3.4" }),
        "10.0.0.1",
        { "x-forwarded-for": "5.6.7.8, 10.0.0.1" },
      );
      await t.get(
        announcePath({ id: peerId("b"), port: 2 }),
        "10.0.0.1",
        { "x-forwarded-for": "5.6.7.8" },
      );
    }
    const ask = async (t: typeof plain) => {
      const r = await t.get(announcePath({ id: peerId("c"), port: 3, extra: "&numwant=10" }));
      return (decode(r.body) as Map<string, unknown>).get("peers") as Uint8Array;
    };
    const plainPeers = await ask(plain);
    assert.deepEqual(
      new Set([text(plainPeers.subarray(0, 6)), text(plainPeers.subarray(6))]),
      new Set([text(Uint8Array.of(10, 0, 0, 1, 0, 1)), text(Uint8Array.of(10, 0, 0, 1, 0, 2))]),
    );
    const trustedPeers = await ask(trusting);
    assert.deepEqual(
      new Set([text(trustedPeers.subarray(0, 6)), text(trustedPeers.subarray(6))]),
      new Set([text(Uint8Array.of(1, 2, 3, 4, 0, 1)), text(Uint8Array.of(5, 6, 7, 8, 0, 2))]),
    );
    const bad = await trusting.get(announcePath({ id: peerId("d"), port: 4, extra: "&ip=nope" }));
    assert.match(failure(bad.body), /invalid ip/);
  } finally {
    await plain.close();
    await trusting.close();
  }
});

Deno.test("scrape: BEP 48 files dict for repeated info_hash, zeros for unknown", async () => {
  const t = await testTracker();
  try {
    await t.get(announcePath({ id: peerId("s"), port: 1, left: 0 }), "10.0.0.1");
    await t.get(announcePath({ id: peerId("l"), port: 2, left: 9 }), "10.0.0.2");
    const r = await t.get(`/scrape?info_hash=${pct(HASH_A)}&info_hash=${pct(HASH_B)}`);
    assert.equal(
      text(r.body),
      "d5:filesd20:" + text(HASH_B) + "d8:completei0e10:downloadedi0e10:incompletei0ee" +
        "20:" + text(HASH_A) + "d8:completei1e10:downloadedi0e10:incompletei1eeee",
    );
    const all = decode((await t.get("/scrape")).body) as Map<string, Map<string, unknown>>;
    assert.deepEqual([...all.get("files")!.keys()], [text(HASH_A)]);
  } finally {
    await t.close();
  }
});

Deno.test("whitelist: unknown info hashes are refused, listed ones tracked", async () => {
  const hex = [...HASH_B].map((b) => b.toString(16).padStart(2, "0")).join("");
  const t = await testTracker({ whitelist: true, allowedInfoHashes: [hex] });
  try {
    const refused = await t.get(announcePath({ hash: HASH_A, id: peerId("a"), port: 1 }));
    assert.match(failure(refused.body), /unregistered torrent/);
    const ok = await t.get(announcePath({ hash: HASH_B, id: peerId("a"), port: 1 }));
    assert.equal((decode(ok.body) as Map<string, unknown>).get("incomplete"), 1);
    const s = await t.get(`/scrape?info_hash=${pct(HASH_A)}`);
    assert.equal(text(s.body), "d5:filesdee");
  } finally {
    await t.close();
  }
});

Deno.test("expiry: peers silent for 2 x interval are swept", async () => {
  const t = await testTracker({ interval: 60, sweepIntervalMs: 3_600_000 });
  try {
    await t.get(announcePath({ id: peerId("old"), port: 1 }), "10.0.0.1");
    t.advance(61_000);
    await t.get(announcePath({ id: peerId("new"), port: 2 }), "10.0.0.2");
    t.advance(60_000);
    assert.equal(t.store.sweep(1_000_000 + 121_000 - 120_000), 1);
    assert.equal(t.store.totals().peers, 1);
  } finally {
    await t.close();
  }
});

Deno.test("routes: unknown route is 404, stats counts announces", async () => {
  const t = await testTracker();
  try {
    assert.equal((await t.get("/nope")).status, 404);
    await t.get(announcePath({ id: peerId("a"), port: 1, left: 0 }));
    await t.get(announcePath({ id: peerId("b"), port: 2 }));
    t.advance(1000);
    const stats = JSON.parse(text((await t.get("/stats")).body));
    assert.equal(stats.swarms, 1);
    assert.equal(stats.peers, 2);
    assert.equal(stats.seeders, 1);
    assert.equal(stats.leechers, 1);
    assert.equal(stats.announces, 2);
    // Two announces in the tracker's first second.
    assert.equal(stats.announcesPerSecond, 2);
    assert.equal(stats.uptimeSeconds, 1);
  } finally {
    await t.close();
  }
});
