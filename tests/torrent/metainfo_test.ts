import assert from "node:assert/strict";
import { BencodeError, type Encodable, encode } from "../../src/bencode/mod.ts";
import { MetainfoError, parseMetainfo } from "../../src/torrent/mod.ts";
import { concat, toHex, utf8Bytes } from "../../src/util/bytes.ts";
import { sha1 } from "../../src/util/sha1.ts";

const PIECE = 16384;

/** A multi-file torrent whose info dict gets `extra` keys merged in (undefined removes). */
function torrent(info: Record<string, Encodable | undefined>, top: Record<string, Encodable> = {}) {
  const base: Record<string, Encodable | undefined> = {
    name: "root",
    "piece length": PIECE,
    pieces: new Uint8Array(20),
    files: [{ length: 10, path: ["a.txt"] }],
    ...info,
  };
  return encode({ announce: "http://tracker.test/announce", ...top, info: base });
}

function files(...paths: Encodable[][]) {
  return { files: paths.map((path) => ({ length: 1, path })) };
}

function rejects(bytes: Uint8Array, field: string | RegExp, reason: RegExp) {
  assert.throws(() => parseMetainfo(bytes), (e: unknown) => {
    assert.ok(e instanceof MetainfoError, `expected MetainfoError, got ${e}`);
    if (typeof field === "string") assert.equal(e.field, field);
    else assert.match(e.field, field);
    assert.match(e.reason, reason);
    assert.equal(e.exitCode, 2);
    return true;
  });
}

function bencodeRejects(bytes: Uint8Array, offset: number) {
  assert.throws(() => parseMetainfo(bytes), (e: unknown) => {
    assert.ok(e instanceof BencodeError, `expected BencodeError, got ${e}`);
    assert.equal(e.offset, offset);
    return true;
  });
}

Deno.test("single-file torrent: every field filled", () => {
  const pieces = new Uint8Array(40).fill(7);
  const bytes = encode({
    announce: "http://a.test/ann",
    comment: "hello",
    "created by": "test 1.0",
    "creation date": 1700000000,
    "url-list": "http://seed.test/file.bin",
    info: { name: "file.bin", "piece length": PIECE, pieces, length: PIECE + 5, private: 1 },
  });
  const m = parseMetainfo(bytes);
  assert.equal(m.name, "file.bin");
  assert.equal(m.length, PIECE + 5);
  assert.equal(m.pieceLength, PIECE);
  assert.equal(m.pieceCount, 2);
  assert.deepEqual(m.pieces, pieces);
  assert.equal(m.multiFile, false);
  assert.deepEqual(m.files, [{ path: ["file.bin"], length: PIECE + 5, offset: 0, pad: false }]);
  assert.equal(m.private, true);
  assert.equal(m.announce, "http://a.test/ann");
  assert.deepEqual(m.announceList, [["http://a.test/ann"]]);
  assert.deepEqual(m.urlList, ["http://seed.test/file.bin"]);
  assert.equal(m.comment, "hello");
  assert.equal(m.createdBy, "test 1.0");
  assert.equal(m.creationDate, 1700000000);
  assert.ok(m.raw.has("info"));
});

Deno.test("info hash is SHA-1 of the exact info bytes, even with unsorted keys", () => {
  // Keys out of order: re-encoding would sort them and change the hash.
  const info = utf8Bytes(
    "d6:lengthi3e4:name1:x6:pieces20:AAAAAAAAAAAAAAAAAAAA12:piece lengthi16384ee",
  );
  const bytes = concat([utf8Bytes("d4:info"), info, utf8Bytes("e")]);
  const m = parseMetainfo(bytes);
  assert.equal(m.infoHashHex, toHex(sha1(info)));
  assert.deepEqual(m.infoBytes, info);
  assert.notEqual(m.infoHashHex, toHex(sha1(encode(new Map([["x", 1]])))));
});

Deno.test("multi-file: offsets, pad files, BEP 12 tiers, url-list as a list, UTF-8 keys", () => {
  const bytes = torrent({
    "name.utf-8": "Stück",
    files: [
      { length: 5, path: ["d", "one"] },
      { length: PIECE - 5, path: [".pad", "16379"], attr: "p" },
      { length: 7, path: ["bad"], "path.utf-8": ["good"] },
      { length: 0, path: ["empty"] },
    ],
    pieces: new Uint8Array(40),
  }, {
    "announce-list": [["http://a/1", "http://a/2"], [], ["udp://b:1"]],
    "url-list": ["http://w/1", "http://w/2"],
  });
  const m = parseMetainfo(bytes);
  assert.equal(m.name, "Stück");
  assert.equal(m.multiFile, true);
  assert.equal(m.length, PIECE + 7);
  assert.deepEqual(m.files.map((f) => [f.path.join("/"), f.offset, f.length, f.pad]), [
    ["d/one", 0, 5, false],
    [".pad/16379", 5, PIECE - 5, true],
    ["good", PIECE, 7, false],
    ["empty", PIECE + 7, 0, false],
  ]);
  assert.deepEqual(m.announceList, [["http://a/1", "http://a/2"], ["udp://b:1"]]);
  assert.deepEqual(m.urlList, ["http://w/1", "http://w/2"]);
  assert.equal(m.private, false);
});

Deno.test("invalid UTF-8 in a name becomes U+FFFD instead of failing", () => {
  const m = parseMetainfo(torrent({ name: new Uint8Array([0x61, 0xff, 0x62]) }));
  assert.equal(m.name, "a\ufffdb");
});

Deno.test("malformed bencode: truncated, huge length prefix, deep nesting, duplicate keys", () => {
  const good = torrent({});
  bencodeRejects(good.subarray(0, good.length - 1), good.length - 1);
  assert.throws(
    () => parseMetainfo(good.subarray(0, good.length - 30)),
    /invalid bencode at byte \d+/,
  );
  bencodeRejects(utf8Bytes("d4:info999999999999:xe"), 7);
  const deep = new Uint8Array(100_000).fill(0x6c); // "lll...": never a stack overflow
  assert.throws(() => parseMetainfo(deep), BencodeError);
  bencodeRejects(utf8Bytes("d4:infode4:infodee"), 9);
});

Deno.test("pieces: not a multiple of 20, or a count that does not match the length", () => {
  rejects(torrent({ pieces: new Uint8Array(21) }), "info.pieces", /multiple of 20/);
  rejects(torrent({ pieces: new Uint8Array(40) }), "info.pieces", /2 piece hashes.*need 1/);
  rejects(torrent({ pieces: undefined }), "info.pieces", /missing/);
});

Deno.test("lengths and piece length must be sane integers", () => {
  rejects(torrent({ "piece length": 0 }), "info.piece length", /outside/);
  rejects(torrent({ "piece length": 512 * 1024 * 1024 }), "info.piece length", /outside/);
  rejects(torrent({ "piece length": "16384" }), "info.piece length", /not an integer/);
  rejects(
    torrent({ files: [{ length: -1, path: ["x"] }] }),
    "info.files[0].length",
    /out of range/,
  );
  rejects(
    torrent({ files: [{ length: 2n ** 70n, path: ["x"] }] }),
    "info.files[0].length",
    /range/,
  );
  rejects(torrent({ files: undefined }), "info", /neither/);
  rejects(torrent({ length: 3 }), "info", /both/);
  rejects(torrent({ files: [] }), "info.files", /empty/);
  rejects(
    torrent({ files: [{ length: 0, path: ["x"] }], pieces: new Uint8Array() }),
    "info.files",
    /no data/,
  );
  rejects(encode({ info: "x" }), "info", /not a dictionary/);
  rejects(encode(["l"]), "(root)", /not a dictionary/);
});

Deno.test("hostile paths are rejected, naming the file entry", () => {
  const cases: [Encodable[], RegExp][] = [
    [[".."], /"\.\."/],
    [["..", "..", "x"], /"\.\."/],
    [["ok", "."], /"\."/],
    [["/abs"], /'\/'/],
    [["a/b"], /'\/'/],
    [["C:\\x"], /'\\'/],
    [["C:"], /drive letter/],
    [["nul\0byte"], /NUL/],
    [["x".repeat(300)], /300 bytes/],
    [[""], /empty path component/],
    [[], /empty list/],
    [[5], /not a byte string/],
  ];
  for (const [path, reason] of cases) {
    rejects(torrent(files(["fine"], path)), /^info\.files\[1\]\.path/, reason);
  }
  rejects(torrent({ name: ".." }), "info.name", /"\.\."/);
  rejects(torrent({ name: "" }), "info.name", /empty/);
});

Deno.test("duplicate paths and file/folder clashes are rejected; pad files may repeat", () => {
  rejects(torrent(files(["a", "b"], ["a", "b"])), "info.files[1].path", /duplicate path "a\/b"/);
  rejects(
    torrent(files(["a"], ["a", "b"])),
    "info.files[1].path",
    /"a" is both a file and a folder/,
  );
  rejects(torrent(files(["a", "b", "c"], ["a", "b"])), "info.files[1].path", /"a\/b" is both/);
  const padded = torrent({
    files: [
      { length: 1, path: ["x"] },
      { length: 1, path: [".pad", "1"], attr: "p" },
      { length: 1, path: ["y"] },
      { length: 1, path: [".pad", "1"], attr: "p" },
    ],
  });
  assert.equal(parseMetainfo(padded).files.filter((f) => f.pad).length, 2);
});
