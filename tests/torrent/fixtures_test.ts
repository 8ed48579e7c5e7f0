import assert from "node:assert/strict";
import { BencodeError } from "../../src/bencode/mod.ts";
import { MetainfoError, parseMetainfo } from "../../src/torrent/mod.ts";
import { fixtures } from "../fuzz/cases.ts";

/** What the tests compare of parse-torrent's result. */
interface ParsedTorrent {
  infoHash: string;
  name: string;
  length: number;
  pieceLength: number;
  pieces: string[];
  private?: boolean;
  urlList: string[];
  files: { path: string; length: number; offset: number }[];
  announce: string[];
}
// A test-only npm package, kept out of deno.lock like webtorrent-fixtures (see tests/fuzz/cases.ts).
const PARSE_TORRENT = "npm:parse-torrent@11.0.24";
const parseTorrent: (torrent: Uint8Array) => Promise<ParsedTorrent> =
  (await import(PARSE_TORRENT)).default;
const TEST_ONLY = ["npm:parse-torrent@", "npm:webtorrent-fixtures@"];

// The real-world torrents of webtorrent-fixtures (MIT, loaded from the npm package), checked
// against what parse-torrent (an independent implementation) computes from the same bytes.
const names = ["leaves", "alice", "folder", "numbers", "lotsOfNumbers", "bunny", "sintel"] as const;

for (const name of names) {
  Deno.test(`webtorrent fixture ${name}: same hash, name, length and files as parse-torrent`, async () => {
    const bytes = new Uint8Array(fixtures[name].torrent);
    const expected = await parseTorrent(bytes);
    const m = parseMetainfo(bytes);
    assert.equal(m.infoHashHex, expected.infoHash);
    assert.equal(m.name, expected.name);
    assert.equal(m.length, expected.length);
    assert.equal(m.pieceLength, expected.pieceLength);
    assert.equal(m.pieceCount, expected.pieces.length);
    assert.equal(m.private, expected.private === true);
    assert.deepEqual(m.urlList, expected.urlList);
    assert.deepEqual(
      m.files.map((f) => ({
        path: (m.multiFile ? [m.name, ...f.path] : f.path).join("/"),
        length: f.length,
        offset: f.offset,
      })),
      expected.files.map((f) => ({
        path: f.path,
        length: f.length,
        offset: f.offset,
      })),
    );
    assert.deepEqual(m.announceList.flat(), expected.announce);
  });
}

Deno.test("webtorrent fixture corrupt.torrent is rejected with a typed error", () => {
  assert.throws(
    () => parseMetainfo(new Uint8Array(fixtures.corrupt.torrent)),
    (e: unknown) => e instanceof MetainfoError || e instanceof BencodeError,
  );
});

Deno.test("deno.lock has no test-only npm package (deno task would install it for btx users)", async () => {
  const lock = JSON.parse(await Deno.readTextFile(new URL("../../deno.lock", import.meta.url)));
  const leaked = Object.keys(lock.specifiers ?? {}).filter((s) =>
    TEST_ONLY.some((p) => s.startsWith(p))
  );
  assert.deepEqual(
    leaked,
    [],
    "a test that loads them ran without --lock=tests/deno.lock (deno task test passes it): " +
      "take them out of deno.lock again (e.g. git checkout deno.lock) and run such test files " +
      "with `deno test --lock=tests/deno.lock`",
  );
});
