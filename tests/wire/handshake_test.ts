import assert from "node:assert/strict";
import { fromHex, utf8Bytes } from "../../src/util/bytes.ts";
import {
  decodeHandshake,
  decodeHandshakeStart,
  encodeHandshake,
  HANDSHAKE_LENGTH,
  WireError,
} from "../../src/wire/mod.ts";

const infoHash = Uint8Array.from({ length: 20 }, (_, i) => i + 1);
const peerId = utf8Bytes("-BX0001-abcdefghijkl");

function hex(text: string): Uint8Array {
  const bytes = fromHex(text.replace(/\s+/g, ""));
  if (!bytes) throw new Error(`bad hex in test: ${text}`);
  return bytes;
}

// 19 "BitTorrent protocol" | reserved | info hash | peer id
const PLAIN = hex(`
  13 426974546f7272656e742070726f746f636f6c
  0000000000000000
  0102030405060708090a0b0c0d0e0f1011121314
  2d4258303030312d6162636465666768696a6b6c`);
const EXTENDED_AND_FAST = hex(`
  13 426974546f7272656e742070726f746f636f6c
  0000000000100004
  0102030405060708090a0b0c0d0e0f1011121314
  2d4258303030312d6162636465666768696a6b6c`);

Deno.test("encodeHandshake writes the BEP 3 layout", () => {
  assert.equal(HANDSHAKE_LENGTH, 68);
  assert.deepEqual(encodeHandshake({ infoHash, peerId }), PLAIN);
});

Deno.test("encodeHandshake sets the BEP 10 bit (reserved[5] 0x10) and BEP 6 bit (reserved[7] 0x04)", () => {
  assert.deepEqual(
    encodeHandshake({ infoHash, peerId, extended: true, fast: true }),
    EXTENDED_AND_FAST,
  );
  const onlyFast = encodeHandshake({ infoHash, peerId, fast: true });
  assert.deepEqual(onlyFast.subarray(20, 28), hex("0000000000000004"));
  const onlyExtended = encodeHandshake({ infoHash, peerId, extended: true });
  assert.deepEqual(onlyExtended.subarray(20, 28), hex("0000000000100000"));
});

Deno.test("decodeHandshake reads fields and extension bits", () => {
  const plain = decodeHandshake(PLAIN);
  assert.deepEqual(plain.infoHash, infoHash);
  assert.deepEqual(plain.peerId, peerId);
  assert.equal(plain.extended, false);
  assert.equal(plain.fast, false);
  const both = decodeHandshake(EXTENDED_AND_FAST);
  assert.equal(both.extended, true);
  assert.equal(both.fast, true);
  assert.deepEqual(both.reserved, hex("0000000000100004"));
});

Deno.test("decodeHandshake ignores reserved bits it does not know (DHT, LTEP neighbours)", () => {
  // libtorrent sets 0x01 in reserved[7] (DHT) and 0x10 in reserved[5]; qBittorrent the same.
  const bytes = PLAIN.slice();
  bytes[27] = 0x05;
  bytes[25] = 0x10;
  bytes[20] = 0x80;
  const h = decodeHandshake(bytes);
  assert.equal(h.extended, true);
  assert.equal(h.fast, true);
});

Deno.test("decoded handshakes are copies of the input", () => {
  const bytes = PLAIN.slice();
  const h = decodeHandshake(bytes);
  bytes.fill(0);
  assert.deepEqual(h.infoHash, infoHash);
  assert.deepEqual(h.peerId, peerId);
});

Deno.test("decodeHandshakeStart needs only the 48 bytes before the peer id", () => {
  const start = decodeHandshakeStart(EXTENDED_AND_FAST.subarray(0, 48));
  assert.deepEqual(start.infoHash, infoHash);
  assert.equal(start.extended, true);
  assert.throws(() => decodeHandshakeStart(PLAIN.subarray(0, 47)), WireError);
});

Deno.test("decodeHandshake rejects wrong lengths and protocol strings", () => {
  assert.throws(() => decodeHandshake(PLAIN.subarray(0, 67)), WireError);
  assert.throws(() => decodeHandshake(new Uint8Array(69)), WireError);
  const wrongLength = PLAIN.slice();
  wrongLength[0] = 18;
  assert.throws(() => decodeHandshake(wrongLength), /BitTorrent protocol/);
  const wrongText = PLAIN.slice();
  wrongText[1] = 0x62; // 'b'
  assert.throws(() => decodeHandshake(wrongText), WireError);
});

Deno.test("encodeHandshake rejects ids that are not 20 bytes", () => {
  assert.throws(() => encodeHandshake({ infoHash: new Uint8Array(19), peerId }), RangeError);
  assert.throws(() => encodeHandshake({ infoHash, peerId: new Uint8Array(21) }), RangeError);
});
