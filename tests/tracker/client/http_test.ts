import assert from "node:assert/strict";
import {
  announce,
  type AnnounceParams,
  buildAnnounceUrl,
  scrape,
  scrapeUrlFor,
  TrackerError,
  type TrackerErrorKind,
} from "../../../src/tracker/client/announce.ts";
import { generatePeerId } from "../../../src/client/peers/peer_id.ts";
import { toBinary, utf8Bytes } from "../../../src/util/bytes.ts";
import { AWKWARD_INFO_HASH, bencoded, closedPort, param, TrackerServer } from "./tracker_server.ts";

const INFO_HASH = AWKWARD_INFO_HASH;

function params(overrides: Partial<AnnounceParams> = {}): AnnounceParams {
  return {
    infoHash: INFO_HASH,
    peerId: generatePeerId(),
    port: 6881,
    uploaded: 10,
    downloaded: 20,
    left: 30,
    ...overrides,
  };
}

async function withServer(fn: (server: TrackerServer) => Promise<void>) {
  const server = new TrackerServer();
  try {
    await fn(server);
  } finally {
    await server.close();
  }
}

async function rejectsWith(p: Promise<unknown>, kind: TrackerErrorKind, text: RegExp) {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof TrackerError, `expected TrackerError, got ${e}`);
    assert.equal(e.kind, kind, e.message);
    assert.match(e.message, text);
    return true;
  });
}

Deno.test("announce sends info_hash and peer_id as raw percent-encoded bytes", async () => {
  await withServer(async (server) => {
    const p = params({ event: "started", numwant: 50, key: "ab12cd34", trackerId: "\xff\x01" });
    await announce(`${server.url}/announce?passkey=s3cr%2Ft`, p);
    const [req] = server.requests;
    assert.ok(req);
    assert.equal(req.path, "/announce");
    assert.ok(req.rawQuery.startsWith("passkey=s3cr%2Ft&info_hash=%FF%00%25%26%3D%20%2BAz-._~%80"));
    assert.deepEqual(req.params.find(([k]) => k === "info_hash")?.[1], INFO_HASH);
    assert.deepEqual(req.params.find(([k]) => k === "peer_id")?.[1], p.peerId);
    assert.deepEqual(req.params.find(([k]) => k === "trackerid")?.[1], Uint8Array.of(0xff, 1));
    const expected = {
      port: "6881",
      uploaded: "10",
      downloaded: "20",
      left: "30",
      compact: "1",
      event: "started",
      numwant: "50",
      key: "ab12cd34",
    };
    for (const [k, v] of Object.entries(expected)) assert.equal(param(req, k), v, k);
  });
});

Deno.test("buildAnnounceUrl leaves out optional fields and honours compact=false", () => {
  const url = buildAnnounceUrl("http://t.example/announce?", params({ compact: false }));
  assert.match(url, /^http:\/\/t\.example\/announce\?info_hash=%FF%00/);
  assert.match(url, /&compact=0$/);
  assert.doesNotMatch(url, /event=|numwant=|key=|trackerid=/);
  assert.throws(() => buildAnnounceUrl("http://t/a", params({ infoHash: new Uint8Array(19) })));
});

Deno.test("announce parses compact IPv4 peers, BEP 7 peers6 and the counters", async () => {
  await withServer(async (server) => {
    const v6 = new Uint8Array(18);
    v6.set([0x20, 0x01, 0x0d, 0xb8], 0);
    v6[15] = 1;
    v6.set([0x1a, 0xe1], 16); // port 6881
    server.reply = () =>
      bencoded({
        interval: 900,
        "min interval": 60,
        complete: 3,
        incomplete: 7,
        "tracker id": "tid-1",
        "warning message": "be nice",
        // 10.0.0.1:6881, 192.168.1.200:65535, a port-0 entry that must be skipped, 2 stray bytes
        peers: Uint8Array.of(
          10,
          0,
          0,
          1,
          0x1a,
          0xe1,
          192,
          168,
          1,
          200,
          0xff,
          0xff,
          1,
          2,
          3,
          4,
          0,
          0,
          9,
          9,
        ),
        peers6: v6,
      });
    const r = await announce(`${server.url}/announce`, params());
    assert.deepEqual(r, {
      interval: 900,
      minInterval: 60,
      complete: 3,
      incomplete: 7,
      trackerId: "tid-1",
      warning: "be nice",
      peers: [
        { hostname: "10.0.0.1", port: 6881 },
        { hostname: "192.168.1.200", port: 65535 },
        { hostname: "2001:db8::1", port: 6881 },
      ],
    });
  });
});

Deno.test("announce parses the original list-of-dictionaries peer format", async () => {
  await withServer(async (server) => {
    const id = utf8Bytes("-XX0001-abcdefghijkl");
    server.reply = () =>
      bencoded({
        interval: 60,
        peers: [
          { ip: "127.0.0.1", port: 51413, "peer id": id },
          { ip: "::1", port: 6881 },
          { ip: "peer.example", port: 7000 },
          { ip: "1.2.3.4", port: 0 },
          "junk",
        ],
      });
    const r = await announce(`${server.url}/announce`, params({ compact: false }));
    assert.deepEqual(r.peers, [
      { hostname: "127.0.0.1", port: 51413, peerId: id },
      { hostname: "::1", port: 6881 },
      { hostname: "peer.example", port: 7000 },
    ]);
    assert.equal(param(server.requests[0]!, "compact"), "0");
  });
});

Deno.test("a failure reason becomes a TrackerError with the tracker's text", async () => {
  await withServer(async (server) => {
    server.reply = () => bencoded({ "failure reason": "torrent not registered" });
    await rejectsWith(announce(`${server.url}/announce`, params()), "failure", /not registered/);
    server.reply = () => bencoded({ "failure reason": "bad passkey" }, 403);
    await rejectsWith(announce(`${server.url}/announce`, params()), "failure", /bad passkey$/);
  });
});

Deno.test("HTTP errors, garbage and oversized bodies are TrackerErrors", async () => {
  await withServer(async (server) => {
    const url = `${server.url}/announce`;
    server.reply = () => new Response("<html>oops</html>", { status: 502 });
    await rejectsWith(announce(url, params()), "http", /HTTP 502/);
    server.reply = () => new Response("<html>hello</html>");
    await rejectsWith(announce(url, params()), "protocol", /not bencoded.*<html>hello/);
    server.reply = () => bencoded(["a list"]);
    await rejectsWith(announce(url, params()), "protocol", /not a dictionary/);
    server.reply = () => bencoded({ interval: -5 });
    await rejectsWith(announce(url, params()), "protocol", /interval/);
    server.reply = () => new Response(new Uint8Array(4096));
    await rejectsWith(announce(url, params(), { maxBytes: 1000 }), "protocol", /exceeds 1000/);
  });
});

Deno.test("a slow tracker times out and an aborted request says so", async () => {
  await withServer(async (server) => {
    server.reply = () => server.hang();
    const url = `${server.url}/announce`;
    await rejectsWith(announce(url, params(), { timeoutMs: 50 }), "timeout", /within 50 ms/);
    const controller = new AbortController();
    const pending = announce(url, params(), { signal: controller.signal });
    await server.nextRequest();
    controller.abort();
    await rejectsWith(pending, "aborted", /cancelled/);
  });
});

Deno.test("network errors and non-HTTP trackers are reported clearly", async () => {
  await rejectsWith(
    announce(`http://127.0.0.1:${closedPort()}/announce`, params()),
    "network",
    /request failed/,
  );
  await rejectsWith(announce("udp://127.0.0.1:1/announce", params()), "unsupported", /BEP 15/);
  await rejectsWith(announce("not a url", params()), "unsupported", /not a valid URL/);
});

Deno.test("scrapeUrlFor follows the BEP 48 convention", () => {
  const cases: [string, string | undefined][] = [
    ["http://example.com/announce", "http://example.com/scrape"],
    ["http://example.com/x/announce", "http://example.com/x/scrape"],
    ["http://example.com/announce.php", "http://example.com/scrape.php"],
    ["http://example.com/announce?x2%0644", "http://example.com/scrape?x2%0644"],
    ["http://example.com/announce?x=2/4", "http://example.com/scrape?x=2/4"],
    ["http://example.com/a", undefined],
    ["http://example.com/announce?x=2/4/announce", "http://example.com/scrape?x=2/4/announce"],
    ["http://example.com/x%064announce", undefined],
    ["http://example.com", undefined],
  ];
  for (const [input, expected] of cases) {
    if (expected === undefined) {
      assert.throws(() => scrapeUrlFor(input), TrackerError, input);
    } else assert.equal(scrapeUrlFor(input), expected, input);
  }
});

Deno.test("scrape sends every info_hash and maps the files dictionary by hex", async () => {
  await withServer(async (server) => {
    const other = new Uint8Array(20).fill(0xab);
    server.reply = () =>
      bencoded({
        files: new Map<string, { complete: number; downloaded: number; incomplete: number }>([
          [toBinary(INFO_HASH), { complete: 5, downloaded: 50, incomplete: 2 }],
        ]),
      });
    const result = await scrape(`${server.url}/announce`, [INFO_HASH, other]);
    const [req] = server.requests;
    assert.equal(req?.path, "/scrape");
    assert.deepEqual(
      req.params.filter(([k]) => k === "info_hash").map(([, v]) => v),
      [INFO_HASH, other],
    );
    assert.deepEqual([...result], [[
      "ff0025263d202b417a2d2e5f7e80c3280a2f3f23",
      { complete: 5, downloaded: 50, incomplete: 2 },
    ]]);
  });
});
