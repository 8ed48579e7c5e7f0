import assert from "node:assert/strict";
import { utf8Bytes } from "../../../src/util/bytes.ts";
import {
  decodeExtendedHandshake,
  encodeExtendedHandshake,
  WireError,
} from "../../../src/wire/mod.ts";
import { hex } from "../helpers.ts";

Deno.test("encodeExtendedHandshake writes sorted BEP 10 keys", () => {
  const bytes = encodeExtendedHandshake({
    m: { ut_metadata: 3, ut_pex: 1 },
    v: "btx 0.1.0",
    reqq: 250,
    yourip: hex("7f000001"),
    p: 6881,
    metadataSize: 31235,
  });
  const expected = concatText(
    "d1:md11:ut_metadatai3e6:ut_pexi1ee13:metadata_sizei31235e1:pi6881e4:reqqi250e",
    "1:v9:btx 0.1.06:yourip4:",
  );
  assert.deepEqual(bytes, new Uint8Array([...expected, 0x7f, 0, 0, 1, 0x65]));
});

Deno.test("encodeExtendedHandshake leaves out absent fields and accepts a Map", () => {
  const bytes = encodeExtendedHandshake({ m: new Map([["ut_metadata", 2]]) });
  assert.deepEqual(bytes, utf8Bytes("d1:md11:ut_metadatai2eee"));
});

Deno.test("decodeExtendedHandshake reads a libtorrent-style handshake", () => {
  const payload = concatText(
    "d12:complete_agoi-1e1:md11:lt_donthavei7e10:share_modei8e11:upload_onlyi3e",
    "12:ut_holepunchi4e11:ut_metadatai2e6:ut_pexi1ee13:metadata_sizei5120e",
    "4:reqqi500e11:upload_onlyi1e1:v17:libtorrent 2.0.11",
    "6:yourip16:",
  );
  const ipv6 = hex("00000000000000000000000000000001");
  const h = decodeExtendedHandshake(new Uint8Array([...payload, ...ipv6, 0x65]));
  assert.equal(h.m.get("ut_metadata"), 2);
  assert.equal(h.m.get("ut_pex"), 1);
  assert.equal(h.m.size, 6);
  assert.equal(h.metadataSize, 5120);
  assert.equal(h.reqq, 500);
  assert.equal(h.v, "libtorrent 2.0.11");
  assert.deepEqual(h.yourip, ipv6);
  assert.equal(h.p, undefined);
  // Keys btx does not model are still available.
  assert.equal(h.raw?.get("upload_only"), 1);
});

Deno.test("decodeExtendedHandshake ignores bad values instead of failing", () => {
  const h = decodeExtendedHandshake(utf8Bytes(
    "d1:md3:badi300e4:good" + "i5e4:listli1eee13:metadata_size3:abc1:pi70000e4:reqqi-3e" +
      "1:vi3e6:yourip5:12345e",
  ));
  assert.deepEqual([...h.m], [["good", 5]]);
  assert.equal(h.metadataSize, undefined);
  assert.equal(h.p, undefined);
  assert.equal(h.reqq, undefined);
  assert.equal(h.v, undefined);
  assert.equal(h.yourip, undefined);
});

Deno.test("decodeExtendedHandshake keeps id 0 (an extension being disabled)", () => {
  const h = decodeExtendedHandshake(utf8Bytes("d1:md6:ut_pexi0eee"));
  assert.equal(h.m.get("ut_pex"), 0);
});

Deno.test("decodeExtendedHandshake fails only on a non-dictionary payload", () => {
  assert.throws(() => decodeExtendedHandshake(utf8Bytes("li1ee")), WireError);
  assert.throws(() => decodeExtendedHandshake(utf8Bytes("d1:m")), WireError);
  assert.throws(() => decodeExtendedHandshake(new Uint8Array(0)), WireError);
  assert.deepEqual(decodeExtendedHandshake(utf8Bytes("de")).m, new Map());
});

Deno.test("extended handshake round trip", () => {
  const yourip = hex("c0a80001");
  const h = decodeExtendedHandshake(encodeExtendedHandshake({
    m: { ut_metadata: 1 },
    v: "btx",
    p: 51413,
    yourip,
    metadataSize: 1,
  }));
  assert.deepEqual(
    { m: h.m, v: h.v, p: h.p, yourip: h.yourip, metadataSize: h.metadataSize },
    { m: new Map([["ut_metadata", 1]]), v: "btx", p: 51413, yourip, metadataSize: 1 },
  );
});

function concatText(...parts: string[]): Uint8Array {
  return utf8Bytes(parts.join(""));
}
