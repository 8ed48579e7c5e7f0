import assert from "node:assert/strict";
import { utf8Bytes } from "../../src/util/bytes.ts";
import {
  decodeMessage,
  encodeMessage,
  encodePieceHeader,
  encodeRequestInto,
  type Message,
  REQUEST_LENGTH,
  WireError,
} from "../../src/wire/mod.ts";
import { hex } from "./helpers.ts";

// Every message with its full frame written out: length prefix, id, body (BEP 3, 5, 6, 10).
const VECTORS: [string, Message, Uint8Array][] = [
  ["keep-alive", { type: "keepalive" }, hex("00000000")],
  ["choke", { type: "choke" }, hex("00000001 00")],
  ["unchoke", { type: "unchoke" }, hex("00000001 01")],
  ["interested", { type: "interested" }, hex("00000001 02")],
  ["not interested", { type: "notInterested" }, hex("00000001 03")],
  ["have", { type: "have", index: 0x01020304 }, hex("00000005 04 01020304")],
  ["have max index", { type: "have", index: 0xffffffff }, hex("00000005 04 ffffffff")],
  ["bitfield", { type: "bitfield", bitfield: hex("ff80") }, hex("00000003 05 ff80")],
  [
    "request",
    { type: "request", index: 1, begin: 0x4000, length: 0x4000 },
    hex("0000000d 06 00000001 00004000 00004000"),
  ],
  [
    "piece",
    { type: "piece", index: 2, begin: 0x8000, block: hex("aabbcc") },
    hex("0000000c 07 00000002 00008000 aabbcc"),
  ],
  [
    "cancel",
    { type: "cancel", index: 3, begin: 0, length: 0x4000 },
    hex("0000000d 08 00000003 00000000 00004000"),
  ],
  ["port (BEP 5)", { type: "port", port: 6881 }, hex("00000003 09 1ae1")],
  ["suggest (BEP 6)", { type: "suggest", index: 5 }, hex("00000005 0d 00000005")],
  ["have all (BEP 6)", { type: "haveAll" }, hex("00000001 0e")],
  ["have none (BEP 6)", { type: "haveNone" }, hex("00000001 0f")],
  [
    "reject (BEP 6)",
    { type: "reject", index: 4, begin: 0x4000, length: 0x2000 },
    hex("0000000d 10 00000004 00004000 00002000"),
  ],
  ["allowed fast (BEP 6)", { type: "allowedFast", index: 7 }, hex("00000005 11 00000007")],
  [
    "extended handshake (BEP 10)",
    { type: "extended", id: 0, payload: utf8Bytes("d1:md11:ut_metadatai1eee") },
    hex("0000001a 14 00 64313a6d6431313a75745f6d657461646174616931656565"),
  ],
  [
    "extended message (BEP 10)",
    { type: "extended", id: 3, payload: hex("0102") },
    hex("00000004 14 03 0102"),
  ],
];

for (const [name, message, frame] of VECTORS) {
  Deno.test(`encodeMessage: ${name}`, () => {
    assert.deepEqual(encodeMessage(message), frame);
  });
  Deno.test(`decodeMessage: ${name}`, () => {
    assert.deepEqual(decodeMessage(frame.subarray(4)), message);
  });
}

Deno.test("decodeMessage returns unknown ids as `unknown` so they can be ignored", () => {
  assert.deepEqual(decodeMessage(hex("63 0102")), {
    type: "unknown",
    id: 0x63,
    payload: hex("0102"),
  });
  // BEP 6 ids are known; id 10-12 (old, unassigned here) are not.
  assert.deepEqual(decodeMessage(hex("0a")), { type: "unknown", id: 10, payload: hex("") });
  assert.deepEqual(
    encodeMessage({ type: "unknown", id: 0x63, payload: hex("0102") }),
    hex("00000003 63 0102"),
  );
});

Deno.test("decodeMessage rejects a body of the wrong size for the id", () => {
  const bad = [
    "00 00", // choke with a body
    "0e 00", // have all with a body
    "04 000001", // have with 3 bytes
    "04 00000001 00", // have with 5 bytes
    "06 00000001 00004000 000040", // request with 11 bytes
    "10 00000001 00004000 00004000 00", // reject with 13 bytes
    "07 00000001 000040", // piece with 7 bytes
    "09 1a", // port with 1 byte
    "11 000000", // allowed fast with 3 bytes
    "14", // extended without its id
  ];
  for (const body of bad) {
    assert.throws(() => decodeMessage(hex(body)), WireError, body);
  }
});

Deno.test("decodeMessage accepts an empty piece block and an empty bitfield", () => {
  assert.deepEqual(decodeMessage(hex("07 00000001 00000000")), {
    type: "piece",
    index: 1,
    begin: 0,
    block: new Uint8Array(0),
  });
  assert.deepEqual(decodeMessage(hex("05")), { type: "bitfield", bitfield: new Uint8Array(0) });
});

Deno.test("encodePieceHeader is the first 13 bytes of the piece frame", () => {
  const block = new Uint8Array(16384).fill(7);
  const frame = encodeMessage({ type: "piece", index: 9, begin: 16384, block });
  assert.deepEqual(encodePieceHeader(9, 16384, block.length), frame.subarray(0, 13));
  assert.deepEqual(encodePieceHeader(9, 16384, 16384), hex("00004009 07 00000009 00004000"));
});

Deno.test("encodeMessage rejects numbers that do not fit their field", () => {
  assert.throws(() => encodeMessage({ type: "have", index: -1 }), RangeError);
  assert.throws(() => encodeMessage({ type: "have", index: 2 ** 32 }), RangeError);
  assert.throws(
    () => encodeMessage({ type: "request", index: 0, begin: 1.5, length: 1 }),
    RangeError,
  );
  assert.throws(() => encodeMessage({ type: "port", port: 65536 }), RangeError);
  assert.throws(() => encodeMessage({ type: "extended", id: 256, payload: hex("") }), RangeError);
});

Deno.test("encodeRequestInto writes the same bytes as encodeMessage, into a reused buffer", () => {
  const scratch = new Uint8Array(32).fill(0xaa);
  const r = { type: "request", index: 70000, begin: 16384 * 3, length: 16384 } as const;
  const bytes = encodeRequestInto(scratch, r.index, r.begin, r.length);
  assert.equal(bytes.buffer, scratch.buffer);
  assert.deepEqual(bytes, encodeMessage(r));
  assert.equal(bytes.length, REQUEST_LENGTH);
  assert.throws(() => encodeRequestInto(scratch, -1, 0, 1), RangeError);
});
