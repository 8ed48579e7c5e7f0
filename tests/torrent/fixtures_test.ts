import assert from "node:assert/strict";
import parseTorrent from "parse-torrent";
import fixtures from "webtorrent-fixtures";
import { BencodeError } from "../../src/bencode/mod.ts";
import { MetainfoError, parseMetainfo } from "../../src/torrent/mod.ts";

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
      expected.files.map((f: { path: string; length: number; offset: number }) => ({
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
