import assert from "node:assert/strict";
import { fromHex, toHex, utf8Bytes } from "../../../src/util/bytes.ts";
import { TrackerError } from "../../../src/tracker/protocol/errors.ts";
import {
  encodeAnnounceRequest,
  encodeAnnounceResponse,
  encodeConnectRequest,
  encodeConnectResponse,
  encodeErrorResponse,
  encodeScrapeRequest,
  encodeScrapeResponse,
  MAX_SCRAPE_HASHES,
  parseUdpRequest,
  parseUdpResponse,
  UDP_ACTIONS,
  UDP_EVENTS,
  UDP_PROTOCOL_ID,
  type UdpAnnounceRequest,
  type UdpAnnounceRequestFields,
  type UdpResponseExpectation,
  writeAnnounceResponse,
  writeAnnounceResponseHeader,
} from "../../../src/tracker/protocol/udp.ts";
import { Prng } from "../../fuzz/prng.ts";

const hex = (text: string): Uint8Array => fromHex(text.replaceAll(/\s+/g, ""))!;
const ascii = (text: string): Uint8Array => utf8Bytes(text);

const INFO_HASH = Uint8Array.from({ length: 20 }, (_, i) => i);
const PEER_ID = ascii("-BX0100-abcdefghijkl");
const CONNECTION_ID = 0x0123456789abcdefn;

const ANNOUNCE: UdpAnnounceRequestFields = {
  connectionId: CONNECTION_ID,
  transactionId: 0xdeadbeef,
  infoHash: INFO_HASH,
  peerId: PEER_ID,
  downloaded: 2 ** 32 + 2,
  left: 1000,
  uploaded: 0,
  event: "started",
  ip: Uint8Array.of(10, 0, 0, 1),
  key: 0xcafebabe,
  port: 6881,
};

/** BEP 15's announce request table, field by field: offset, size, expected bytes. */
const ANNOUNCE_TABLE: [number, number, string][] = [
  [0, 8, "0123456789abcdef"], // connection_id
  [8, 4, "00000001"], // action: announce
  [12, 4, "deadbeef"], // transaction_id
  [16, 20, toHex(INFO_HASH)], // info_hash
  [36, 20, toHex(PEER_ID)], // peer_id
  [56, 8, "0000000100000002"], // downloaded
  [64, 8, "00000000000003e8"], // left
  [72, 8, "0000000000000000"], // uploaded
  [80, 4, "00000002"], // event: started
  [84, 4, "0a000001"], // IP address
  [88, 4, "cafebabe"], // key
  [92, 4, "ffffffff"], // num_want: -1, the default
  [96, 2, "1ae1"], // port 6881
];

function announceRequest(packet: Uint8Array): UdpAnnounceRequest {
  const r = parseUdpRequest(packet);
  assert.equal(r?.action, "announce");
  return r as UdpAnnounceRequest;
}

/** Runs `parse`; a throw is allowed only as a TrackerError of kind "protocol". */
function clientOutcome(parse: () => unknown): unknown {
  try {
    return parse();
  } catch (e) {
    assert.ok(e instanceof TrackerError, `unexpected ${e}`);
    assert.equal(e.kind, "protocol");
    return "protocol error";
  }
}

// --- Constants ----------------------------------------------------------------------------------

Deno.test("udp: BEP 15 constants", () => {
  assert.equal(UDP_PROTOCOL_ID, 0x41727101980n);
  assert.deepEqual(UDP_ACTIONS, { connect: 0, announce: 1, scrape: 2, error: 3 });
  assert.deepEqual(UDP_EVENTS, { none: 0, completed: 1, started: 2, stopped: 3, paused: 4 });
  assert.equal(MAX_SCRAPE_HASHES, 74);
});

// --- Client -> server ---------------------------------------------------------------------------

Deno.test("udp: connect request bytes follow BEP 15's table", () => {
  // protocol_id 0 (8) | action 8 (4) | transaction_id 12 (4).
  assert.equal(
    toHex(encodeConnectRequest(0x11223344)),
    "0000041727101980" + "00000000" + "11223344",
  );
  assert.throws(() => encodeConnectRequest(-1), RangeError);
  assert.throws(() => encodeConnectRequest(2 ** 32), RangeError);
  assert.throws(() => encodeConnectRequest(1.5), RangeError);
});

Deno.test("udp: announce request bytes follow BEP 15's table, offset by offset", () => {
  const packet = encodeAnnounceRequest(ANNOUNCE);
  assert.equal(packet.length, 98);
  let at = 0;
  for (const [offset, size, bytes] of ANNOUNCE_TABLE) {
    assert.equal(offset, at, "the table is contiguous");
    assert.equal(toHex(packet.subarray(offset, offset + size)), bytes, `field at ${offset}`);
    at += size;
  }
  assert.equal(at, 98);
});

Deno.test("udp: announce request defaults: no event, ip 0, numwant -1; every event number", () => {
  const base = { ...ANNOUNCE, event: undefined, ip: undefined };
  const packet = encodeAnnounceRequest(base);
  assert.equal(toHex(packet.subarray(80, 96)), "00000000" + "00000000" + "cafebabe" + "ffffffff");
  const events = [
    [undefined, 0],
    ["completed", 1],
    ["started", 2],
    ["stopped", 3],
    ["paused", 4], // not BEP 15: libtorrent's number for BEP 21's partial seeds
  ] as const;
  for (const [event, n] of events) {
    assert.equal(encodeAnnounceRequest({ ...base, event })[83], n);
    assert.equal(announceRequest(encodeAnnounceRequest({ ...base, event })).event, event);
  }
  assert.equal(toHex(encodeAnnounceRequest({ ...base, numwant: 50 }).subarray(92, 96)), "00000032");
});

Deno.test("udp: announce request refuses out-of-range fields with a RangeError", () => {
  const bad: Partial<UdpAnnounceRequestFields>[] = [
    { connectionId: -1n },
    { connectionId: 2n ** 64n },
    { transactionId: 2 ** 32 },
    { infoHash: new Uint8Array(19) },
    { peerId: new Uint8Array(21) },
    { downloaded: -1 },
    { left: 2 ** 53 },
    { uploaded: 0.5 },
    { ip: new Uint8Array(16) },
    { key: -1 },
    { numwant: 2 ** 31 },
    { port: 65536 },
  ];
  for (const fields of bad) {
    assert.throws(() => encodeAnnounceRequest({ ...ANNOUNCE, ...fields }), RangeError);
  }
});

Deno.test("udp: scrape request bytes; at most 74 hashes", () => {
  const a = new Uint8Array(20).fill(0xaa);
  const b = new Uint8Array(20).fill(0xbb);
  assert.equal(
    toHex(encodeScrapeRequest(CONNECTION_ID, 7, [a, b])),
    "0123456789abcdef" + "00000002" + "00000007" + toHex(a) + toHex(b),
  );
  const many = Array.from({ length: 75 }, () => a);
  assert.equal(encodeScrapeRequest(CONNECTION_ID, 7, many.slice(0, 74)).length, 16 + 74 * 20);
  assert.throws(() => encodeScrapeRequest(CONNECTION_ID, 7, many), RangeError);
  assert.throws(() => encodeScrapeRequest(CONNECTION_ID, 7, [new Uint8Array(32)]), RangeError);
});

// --- Server parses requests ---------------------------------------------------------------------

Deno.test("udp: the server parses a connect request", () => {
  assert.deepEqual(parseUdpRequest(encodeConnectRequest(0x11223344)), {
    action: "connect",
    transactionId: 0x11223344,
  });
  // Bytes past the fields are ignored (BEP 15: packets may grow).
  const longer = new Uint8Array(40);
  longer.set(encodeConnectRequest(5));
  assert.deepEqual(parseUdpRequest(longer), { action: "connect", transactionId: 5 });
  // Not BEP 15 at all: dropped.
  const wrongId = encodeConnectRequest(5);
  wrongId[7] = 0x81; // 0x80 in BEP 15
  assert.equal(parseUdpRequest(wrongId), undefined);
});

Deno.test("udp: the server parses an announce into the fields the client encoded", () => {
  const r = announceRequest(encodeAnnounceRequest(ANNOUNCE));
  assert.equal(r.connectionIdHi, 0x01234567);
  assert.equal(r.connectionIdLo, 0x89abcdef);
  assert.equal((BigInt(r.connectionIdHi) << 32n) | BigInt(r.connectionIdLo), CONNECTION_ID);
  assert.equal(r.transactionId, 0xdeadbeef);
  assert.deepEqual(r.infoHash, INFO_HASH);
  assert.deepEqual(r.peerId, PEER_ID);
  assert.equal(r.downloaded, 2 ** 32 + 2);
  assert.equal(r.left, 1000);
  assert.equal(r.uploaded, 0);
  assert.equal(r.event, "started");
  assert.deepEqual(r.ip, Uint8Array.of(10, 0, 0, 1));
  assert.equal(r.key, 0xcafebabe);
  assert.equal(r.numwant, -1);
  assert.equal(r.port, 6881);
  assert.equal("urlData" in r, false);
  assert.equal(
    announceRequest(encodeAnnounceRequest({ ...ANNOUNCE, ip: undefined })).ip,
    undefined,
  );
});

Deno.test("udp: 64-bit counters are exact up to 2^53 - 1 and clamped above", () => {
  for (const n of [0, 1, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 12345, Number.MAX_SAFE_INTEGER]) {
    const r = announceRequest(encodeAnnounceRequest({ ...ANNOUNCE, downloaded: n, left: n }));
    assert.equal(r.downloaded, n);
    assert.equal(r.left, n);
  }
  const packet = encodeAnnounceRequest(ANNOUNCE);
  packet.set(hex("0020000000000000"), 56); // 2^53
  packet.set(hex("ffffffffffffffff"), 64); // -1 as int64, "unknown" for some clients
  packet.set(hex("7fffffffffffffff"), 72);
  const r = announceRequest(packet);
  assert.equal(r.downloaded, Number.MAX_SAFE_INTEGER);
  assert.equal(r.left, Number.MAX_SAFE_INTEGER);
  assert.equal(r.uploaded, Number.MAX_SAFE_INTEGER);
});

Deno.test("udp: an unknown event number is answered, not guessed at", () => {
  const packet = encodeAnnounceRequest(ANNOUNCE);
  packet[83] = 5;
  assert.deepEqual(parseUdpRequest(packet), {
    action: "invalid",
    connectionIdHi: 0x01234567,
    connectionIdLo: 0x89abcdef,
    transactionId: 0xdeadbeef,
    error: "unknown event",
  });
});

Deno.test("udp: the server parses a scrape, keeping the first 74 hashes", () => {
  const hashes = Array.from({ length: 3 }, (_, i) => new Uint8Array(20).fill(i + 1));
  const r = parseUdpRequest(encodeScrapeRequest(CONNECTION_ID, 9, hashes));
  assert.deepEqual(r, {
    action: "scrape",
    connectionIdHi: 0x01234567,
    connectionIdLo: 0x89abcdef,
    transactionId: 9,
    infoHashes: hashes,
  });
  // No hash at all is still a scrape (answered with no entries); a partial hash is ignored.
  const empty = encodeScrapeRequest(CONNECTION_ID, 9, []);
  assert.deepEqual(parseUdpRequest(empty), { ...r, infoHashes: [] });
  const partial = new Uint8Array(16 + 20 + 19);
  partial.set(encodeScrapeRequest(CONNECTION_ID, 9, [hashes[0]!]));
  assert.deepEqual(parseUdpRequest(partial), { ...r, infoHashes: [hashes[0]] });
  // 100 hashes: the first 74 are kept, the request is not refused.
  const big = new Uint8Array(16 + 100 * 20);
  big.set(encodeScrapeRequest(CONNECTION_ID, 9, []));
  for (let i = 0; i < 100; i++) big.fill(i, 16 + 20 * i, 36 + 20 * i);
  const kept = parseUdpRequest(big);
  assert.equal(kept?.action, "scrape");
  if (kept?.action !== "scrape") return;
  assert.equal(kept.infoHashes.length, 74);
  assert.deepEqual(kept.infoHashes[73], new Uint8Array(20).fill(73));
});

Deno.test("udp: short packets are dropped, unknown actions and short announces answered", () => {
  const full = encodeAnnounceRequest(ANNOUNCE);
  for (let n = 0; n < 16; n++) assert.equal(parseUdpRequest(full.subarray(0, n)), undefined);
  for (let n = 16; n < 98; n++) {
    assert.deepEqual(parseUdpRequest(full.subarray(0, n)), {
      action: "invalid",
      connectionIdHi: 0x01234567,
      connectionIdLo: 0x89abcdef,
      transactionId: 0xdeadbeef,
      error: "truncated announce",
    }, `announce cut at ${n}`);
  }
  for (const action of [3, 4, 0xffffffff]) {
    const packet = encodeConnectRequest(77);
    packet.set([action >>> 24, (action >>> 16) & 0xff, (action >>> 8) & 0xff, action & 0xff], 8);
    assert.deepEqual(parseUdpRequest(packet), {
      action: "invalid",
      connectionIdHi: 0x417,
      connectionIdLo: 0x27101980,
      transactionId: 77,
      error: "unknown action",
    });
  }
});

Deno.test("udp: every truncation of every request parses without throwing", () => {
  const requests = [
    encodeConnectRequest(1),
    encodeAnnounceRequest({ ...ANNOUNCE, urlData: "/announce?" + "x".repeat(600) }),
    encodeScrapeRequest(CONNECTION_ID, 2, [INFO_HASH, INFO_HASH]),
  ];
  for (const packet of requests) {
    for (let n = 0; n <= packet.length; n++) parseUdpRequest(packet.subarray(0, n));
  }
});

// --- BEP 41 announce options ----------------------------------------------------------------------

/** The 98-byte announce with `options` appended at byte offset 98. */
function withOptions(options: (number | string)[]): Uint8Array {
  const bytes: number[] = [];
  for (const o of options) {
    if (typeof o === "number") bytes.push(o);
    else bytes.push(...ascii(o));
  }
  const packet = new Uint8Array(98 + bytes.length);
  packet.set(encodeAnnounceRequest(ANNOUNCE));
  packet.set(bytes, 98);
  return packet;
}

Deno.test("udp: BEP 41's examples parse to the URL's PATH and QUERY", () => {
  // udp://tracker.example.com:80/dir?a=b&c=d
  const url = ["/", "d", "i", "r", "?", "a", "=", "b", "&", "c", "=", "d"];
  assert.equal(announceRequest(withOptions([0x2, 0xc, ...url])).urlData, "/dir?a=b&c=d");
  // The same followed by two NOPs and an EndOfOptions: evaluates identically.
  assert.equal(
    announceRequest(withOptions([0x2, 0xc, ...url, 0x1, 0x1, 0x0])).urlData,
    "/dir?a=b&c=d",
  );
  // udp://tracker.example.com:80: an empty URLData says "supported, no PATH or QUERY".
  assert.equal(announceRequest(withOptions([0x2, 0x0])).urlData, "");
});

Deno.test("udp: URLData is encoded as BEP 41's example bytes, then EndOfOptions", () => {
  const packet = encodeAnnounceRequest({ ...ANNOUNCE, urlData: "/dir?a=b&c=d" });
  assert.equal(toHex(packet.subarray(98)), "020c" + toHex(ascii("/dir?a=b&c=d")) + "00");
  const empty = encodeAnnounceRequest({ ...ANNOUNCE, urlData: "" });
  assert.equal(toHex(empty.subarray(98)), "020000");
});

Deno.test("udp: a long URLData is split into chunks of at most 255 bytes and rejoined", () => {
  // A long "/announce?token=..." (say, a signed token, as in BEP 41's use case).
  const token = "/announce?token=" + "0123456789abcdef".repeat(36); // 592 bytes
  for (const url of [token, "x".repeat(255), "y".repeat(256), "x".repeat(254) + "é/z"]) {
    const packet = encodeAnnounceRequest({ ...ANNOUNCE, urlData: url });
    const bytes = ascii(url);
    const chunks: number[] = [];
    let at = 98;
    while (packet[at] === 2) {
      chunks.push(packet[at + 1]!);
      at += 2 + packet[at + 1]!;
    }
    assert.equal(packet[at], 0, "EndOfOptions");
    assert.equal(at + 1, packet.length);
    assert.equal(chunks.reduce((a, b) => a + b, 0), bytes.length);
    // Full 255-byte chunks, then the rest (the 2-byte "é" above straddles two chunks).
    assert.ok(chunks.slice(0, -1).every((n) => n === 255));
    assert.ok(chunks.at(-1)! >= 1 && chunks.at(-1)! <= 255);
    assert.equal(announceRequest(packet).urlData, url);
  }
  const split = encodeAnnounceRequest({ ...ANNOUNCE, urlData: token });
  assert.deepEqual([split[98], split[99], split[98 + 257], split[98 + 257 + 1]], [2, 255, 2, 255]);
});

Deno.test("udp: options parsing skips NOP and unknown types and stops on truncation", () => {
  const cases: [(number | string)[], string | undefined][] = [
    [[], undefined],
    [[0x1, 0x1], undefined],
    [[0x0, 0x2, 0x2, "ab"], undefined], // nothing after EndOfOptions counts
    [[0x2, 0x2, "ab", 0x0, 0x2, 0x2, "cd"], "ab"],
    [[0x2, 0x2, "ab", 0x1, 0x2, 0x2, "cd"], "abcd"],
    [[0x7, 0x3, "???", 0x2, 0x1, "/"], "/"], // an unknown type is skipped by its length
    [[0x9, 0x0, 0x2, 0x1, "/"], "/"],
    [[0x2, 0x1, "/", 0x2], "/"], // no length byte
    [[0x2, 0x1, "/", 0x2, 0x5, "abc"], "/"], // data past the end
    [[0x2, 0x5, "abc"], undefined],
    [[0x2], undefined],
    [[0x7, 0xff, "x"], undefined],
  ];
  for (const [options, urlData] of cases) {
    assert.equal(announceRequest(withOptions(options)).urlData, urlData, JSON.stringify(options));
  }
});

// --- Server -> client ---------------------------------------------------------------------------

Deno.test("udp: response bytes follow BEP 15's tables", () => {
  // connect: action 0 | transaction_id 4 | connection_id 8.
  assert.equal(
    toHex(encodeConnectResponse(0x11223344, 0x01234567, 0x89abcdef)),
    "00000000" + "11223344" + "0123456789abcdef",
  );
  // announce: action 1 | transaction_id 4 | interval 8 | leechers 12 | seeders 16 | peers 20.
  const peers = hex("01020304 1ae1" + "0a000002 0050");
  assert.equal(
    toHex(
      encodeAnnounceResponse({ transactionId: 5, interval: 1800, leechers: 3, seeders: 4, peers }),
    ),
    "00000001" + "00000005" + "00000708" + "00000003" + "00000004" + toHex(peers),
  );
  // scrape: action 2 | transaction_id 4 | seeders, completed, leechers at 8 + 12 * n.
  assert.equal(
    toHex(encodeScrapeResponse(6, [
      { seeders: 1, completed: 2, leechers: 3 },
      { seeders: 0x10, completed: 0x20, leechers: 0x30 },
    ])),
    "00000002" + "00000006" + "000000010000000200000003" + "000000100000002000000030",
  );
  // error: action 3 | transaction_id 4 | message 8.
  assert.equal(
    toHex(encodeErrorResponse(7, "unregistered torrent")),
    "00000003" + "00000007" + toHex(ascii("unregistered torrent")),
  );
});

Deno.test("udp: counts saturate at 2^32 - 1 instead of wrapping", () => {
  const packet = encodeAnnounceResponse({
    transactionId: 1,
    interval: 1800,
    leechers: 2 ** 40,
    seeders: -3,
    peers: new Uint8Array(0),
  });
  assert.equal(toHex(packet.subarray(12)), "ffffffff" + "00000000");
});

Deno.test("udp: announce responses are written into a reused buffer without allocating", () => {
  const out = new Uint8Array(1500);
  const peers6 = new Uint8Array(36).map((_, i) => i + 1);
  const r = { transactionId: 0xabcdef01, interval: 900, leechers: 1, seeders: 2, peers: peers6 };
  const length = writeAnnounceResponse(out, r);
  assert.equal(length, 56);
  assert.deepEqual(out.subarray(0, length), encodeAnnounceResponse(r));
  // The header alone, peers written in place by the caller.
  out.fill(0);
  const at = writeAnnounceResponseHeader(out, r);
  assert.equal(at, 20);
  out.set(peers6, at);
  assert.deepEqual(out.subarray(0, at + 36), encodeAnnounceResponse(r));
  assert.throws(() => writeAnnounceResponse(new Uint8Array(55), r), RangeError);
  assert.throws(() => writeAnnounceResponseHeader(new Uint8Array(19), r), RangeError);
});

// --- Client parses responses --------------------------------------------------------------------

const EXPECT_ANNOUNCE: UdpResponseExpectation = {
  transactionId: 5,
  action: "announce",
  url: "udp://tracker.example:6969/announce",
};

Deno.test("udp: the client parses each response the server encodes", () => {
  assert.deepEqual(
    parseUdpResponse(encodeConnectResponse(9, 0x01234567, 0x89abcdef), {
      transactionId: 9,
      action: "connect",
    }),
    { action: "connect", connectionId: CONNECTION_ID },
  );
  const peers = hex("01020304 1ae1" + "0a000002 0000" + "ffffffff ffff");
  assert.deepEqual(
    parseUdpResponse(
      encodeAnnounceResponse({ transactionId: 5, interval: 1800, leechers: 3, seeders: 4, peers }),
      EXPECT_ANNOUNCE,
    ),
    {
      action: "announce",
      interval: 1800,
      leechers: 3,
      seeders: 4,
      // The port-0 entry is left out.
      peers: [{ hostname: "1.2.3.4", port: 6881 }, { hostname: "255.255.255.255", port: 65535 }],
    },
  );
  const peers6 = hex("2001 0db8 0000 0000 0000 0000 0000 0001 1ae1" + "00".repeat(15) + "01 0050");
  assert.deepEqual(
    parseUdpResponse(
      encodeAnnounceResponse({
        transactionId: 5,
        interval: 1,
        leechers: 0,
        seeders: 0,
        peers: peers6,
      }),
      { ...EXPECT_ANNOUNCE, ipv6: true },
    ),
    {
      action: "announce",
      interval: 1,
      leechers: 0,
      seeders: 0,
      peers: [{ hostname: "2001:db8::1", port: 6881 }, { hostname: "::1", port: 80 }],
    },
  );
  const entries = [{ seeders: 1, completed: 2, leechers: 3 }, {
    seeders: 0xffffffff,
    completed: 0,
    leechers: 7,
  }];
  assert.deepEqual(
    parseUdpResponse(encodeScrapeResponse(6, entries), { transactionId: 6, action: "scrape" }),
    { action: "scrape", entries },
  );
  assert.deepEqual(
    parseUdpResponse(encodeScrapeResponse(6, []), { transactionId: 6, action: "scrape" }),
    { action: "scrape", entries: [] },
  );
});

Deno.test("udp: an error response answers any request", () => {
  for (const action of ["connect", "announce", "scrape"] as const) {
    assert.deepEqual(
      parseUdpResponse(encodeErrorResponse(3, "torrent not registered"), {
        transactionId: 3,
        action,
      }),
      { action: "error", message: "torrent not registered" },
    );
  }
  // C trackers may NUL-terminate the message; an empty message stays empty.
  const nul = new Uint8Array([...encodeErrorResponse(3, "nope"), 0, 0]);
  const expect = { transactionId: 3, action: "announce" } as const;
  assert.deepEqual(parseUdpResponse(nul, expect), { action: "error", message: "nope" });
  assert.deepEqual(parseUdpResponse(encodeErrorResponse(3, ""), expect), {
    action: "error",
    message: "",
  });
});

Deno.test("udp: a response to another transaction, or too short to name one, is ignored", () => {
  const packet = encodeConnectResponse(9, 1, 2);
  assert.equal(parseUdpResponse(packet, { transactionId: 10, action: "connect" }), undefined);
  for (let n = 0; n < 8; n++) {
    assert.equal(
      parseUdpResponse(packet.subarray(0, n), { transactionId: 9, action: "connect" }),
      undefined,
    );
  }
  assert.equal(
    parseUdpResponse(encodeErrorResponse(1, "x"), { transactionId: 2, action: "scrape" }),
    undefined,
  );
});

Deno.test("udp: a malformed answer to our transaction is a TrackerError of kind protocol", () => {
  const bad: [Uint8Array, UdpResponseExpectation, RegExp][] = [
    // Another action than asked for.
    [encodeConnectResponse(5, 1, 2), EXPECT_ANNOUNCE, /answered a announce with action 0/],
    // Too short for its action.
    [encodeConnectResponse(5, 1, 2).subarray(0, 15), { transactionId: 5, action: "connect" }, /15/],
    [
      encodeAnnounceResponse({
        transactionId: 5,
        interval: 1,
        leechers: 0,
        seeders: 0,
        peers: hex(""),
      })
        .subarray(0, 19),
      EXPECT_ANNOUNCE,
      /19 bytes/,
    ],
    // A partial peer: 18-byte IPv6 entries from a tracker reached over IPv4.
    [
      encodeAnnounceResponse({
        transactionId: 5,
        interval: 1,
        leechers: 0,
        seeders: 0,
        peers: new Uint8Array(20),
      }),
      EXPECT_ANNOUNCE,
      /20 \+ 6 \* n/,
    ],
    [
      encodeAnnounceResponse({
        transactionId: 5,
        interval: 1,
        leechers: 0,
        seeders: 0,
        peers: new Uint8Array(12),
      }),
      { ...EXPECT_ANNOUNCE, ipv6: true },
      /20 \+ 18 \* n/,
    ],
    [
      encodeScrapeResponse(5, [{ seeders: 1, completed: 1, leechers: 1 }]).subarray(0, 19),
      { transactionId: 5, action: "scrape" },
      /8 \+ 12 \* n/,
    ],
  ];
  for (const [packet, expected, message] of bad) {
    assert.throws(() => parseUdpResponse(packet, expected), (e) => {
      assert.ok(e instanceof TrackerError);
      assert.equal(e.kind, "protocol");
      assert.equal(e.url, expected.url ?? "");
      assert.match(e.message, message);
      return true;
    });
  }
});

Deno.test("udp: every truncation of every response parses or throws a protocol error", () => {
  const responses: [Uint8Array, UdpResponseExpectation][] = [
    [encodeConnectResponse(5, 1, 2), { transactionId: 5, action: "connect" }],
    [
      encodeAnnounceResponse({
        transactionId: 5,
        interval: 1,
        leechers: 2,
        seeders: 3,
        peers: new Uint8Array(18 * 3).fill(7),
      }),
      EXPECT_ANNOUNCE,
    ],
    [encodeScrapeResponse(5, [{ seeders: 1, completed: 2, leechers: 3 }]), {
      transactionId: 5,
      action: "scrape",
    }],
    [encodeErrorResponse(5, "no"), EXPECT_ANNOUNCE],
  ];
  for (const [packet, expected] of responses) {
    for (let n = 0; n <= packet.length; n++) {
      for (const ipv6 of [false, true]) {
        clientOutcome(() => parseUdpResponse(packet.subarray(0, n), { ...expected, ipv6 }));
      }
    }
  }
});

// --- Whole exchanges and garbage --------------------------------------------------------------

Deno.test("udp: connect, announce and scrape round trips through both sides", () => {
  // Connect.
  const connect = parseUdpRequest(encodeConnectRequest(0x01010101));
  assert.equal(connect?.action, "connect");
  const connected = parseUdpResponse(
    encodeConnectResponse(connect!.transactionId, 0xfedcba98, 0x76543210),
    { transactionId: 0x01010101, action: "connect" },
  );
  assert.equal(connected?.action, "connect");
  if (connected?.action !== "connect") return;
  assert.equal(connected.connectionId, 0xfedcba9876543210n);
  // Announce with the connection id the server handed out.
  const announce = announceRequest(
    encodeAnnounceRequest({
      ...ANNOUNCE,
      connectionId: connected.connectionId,
      transactionId: 0x02020202,
      urlData: "/dir?a=b&c=d",
    }),
  );
  assert.deepEqual([announce.connectionIdHi, announce.connectionIdLo], [0xfedcba98, 0x76543210]);
  assert.equal(announce.urlData, "/dir?a=b&c=d");
  const reply = parseUdpResponse(
    encodeAnnounceResponse({
      transactionId: announce.transactionId,
      interval: 1800,
      leechers: 1,
      seeders: 1,
      peers: hex("7f000001 1ae1"),
    }),
    { transactionId: 0x02020202, action: "announce" },
  );
  assert.deepEqual(reply, {
    action: "announce",
    interval: 1800,
    leechers: 1,
    seeders: 1,
    peers: [{ hostname: "127.0.0.1", port: 6881 }],
  });
  // Scrape.
  const scrape = parseUdpRequest(encodeScrapeRequest(connected.connectionId, 3, [INFO_HASH]));
  assert.equal(scrape?.action, "scrape");
  const counts = [{ seeders: 10, completed: 20, leechers: 30 }];
  assert.deepEqual(
    parseUdpResponse(encodeScrapeResponse(scrape!.transactionId, counts), {
      transactionId: 3,
      action: "scrape",
    }),
    { action: "scrape", entries: counts },
  );
});

Deno.test("udp: 10,000 random packets: the server never throws, the client only with protocol", () => {
  const rng = new Prng(0x15bee);
  const seeds = [
    encodeConnectRequest(1),
    encodeAnnounceRequest({ ...ANNOUNCE, urlData: "/a?b=c" }),
    encodeScrapeRequest(CONNECTION_ID, 1, [INFO_HASH]),
    encodeConnectResponse(1, 2, 3),
    encodeAnnounceResponse({
      transactionId: 1,
      interval: 1,
      leechers: 1,
      seeders: 1,
      peers: hex("01020304 0001"),
    }),
    encodeScrapeResponse(1, [{ seeders: 1, completed: 1, leechers: 1 }]),
    encodeErrorResponse(1, "x"),
  ];
  const counts = new Map<string, number>();
  for (let i = 0; i < 10_000; i++) {
    let packet: Uint8Array;
    if (rng.chance(0.5)) {
      packet = rng.bytes(rng.size(300));
    } else {
      // A real packet, mutated: cut, extended, a few bytes flipped, the action sometimes kept.
      const seed = rng.pick(seeds);
      packet = new Uint8Array(Math.max(0, seed.length + rng.int(40) - 20));
      packet.set(seed.subarray(0, packet.length));
      for (let k = rng.int(4); k > 0 && packet.length > 0; k--) {
        packet[rng.int(packet.length)] = rng.u32() & 0xff;
      }
      if (packet.length >= 16 && rng.chance(0.3)) packet[11] = rng.int(6);
    }
    const request = parseUdpRequest(packet);
    const key = request === undefined
      ? "dropped"
      : request.action === "invalid"
      ? request.error
      : request.action;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    for (const action of ["connect", "announce", "scrape"] as const) {
      clientOutcome(() =>
        parseUdpResponse(packet, { transactionId: 1, action, ipv6: rng.chance(0.5) })
      );
    }
  }
  // The mix reached every outcome, so the loop above exercised each branch.
  for (
    const key of [
      "dropped",
      "connect",
      "announce",
      "scrape",
      "unknown action",
      "truncated announce",
    ]
  ) {
    assert.ok((counts.get(key) ?? 0) > 0, `no ${key} in ${JSON.stringify([...counts])}`);
  }
});
