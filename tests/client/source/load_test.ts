import assert from "node:assert/strict";
import { join } from "node:path";
import { encode } from "../../../src/bencode/mod.ts";
import {
  FetchTorrentError,
  loadTorrentSource,
  TorrentSourceError,
  torrentUrlFor,
} from "../../../src/client/source/load.ts";
import { formatMagnet } from "../../../src/torrent/mod.ts";
import { toHex } from "../../../src/util/bytes.ts";
import { sha1 } from "../../../src/util/sha1.ts";
import { closedPort, TrackerServer } from "../../tracker/client/tracker_server.ts";

function makeTorrent(name: string) {
  const info = { name, "piece length": 16384, length: 10, pieces: new Uint8Array(20).fill(1) };
  const bytes = encode({ announce: "http://127.0.0.1:1/announce", info });
  return { bytes, hex: toHex(sha1(encode(info))) };
}

const body = (b: Uint8Array) => b as Uint8Array<ArrayBuffer>;

async function withServer(fn: (server: TrackerServer) => Promise<void>) {
  const server = new TrackerServer();
  try {
    await fn(server);
  } finally {
    await server.close();
  }
}

Deno.test("loads a local .torrent and reports missing files and folders as input errors", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { bytes } = makeTorrent("local");
    const path = join(dir, "a.torrent");
    await Deno.writeFile(path, bytes);
    assert.deepEqual(await loadTorrentSource(path), bytes);
    await assert.rejects(loadTorrentSource(join(dir, "missing.torrent")), TorrentSourceError);
    await assert.rejects(loadTorrentSource(dir), /is a folder/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("downloads a .torrent over HTTP with a size limit and clear errors", async () => {
  await withServer(async (server) => {
    const { bytes } = makeTorrent("remote");
    server.reply = (req) => {
      if (req.path === "/t.torrent") return new Response(body(bytes));
      if (req.path === "/page") {
        return new Response("<html></html>", { headers: { "content-type": "text/html" } });
      }
      return new Response("nope", { status: 404 });
    };
    assert.deepEqual(await loadTorrentSource(`${server.url}/t.torrent`), bytes);
    await assert.rejects(
      loadTorrentSource(`${server.url}/t.torrent`, { maxBytes: 10 }),
      (e) => e instanceof FetchTorrentError && /exceeds 10/.test(e.message),
    );
    await assert.rejects(loadTorrentSource(`${server.url}/page`), /not a \.torrent \(text\/html\)/);
    await assert.rejects(loadTorrentSource(`${server.url}/gone`), /not found \(HTTP 404\)/);
  });
  await assert.rejects(
    loadTorrentSource(`http://127.0.0.1:${closedPort()}/x.torrent`),
    (e) => e instanceof FetchTorrentError && /request failed/.test(e.message),
  );
  await assert.rejects(loadTorrentSource("ftp://host/x.torrent"), TorrentSourceError);
});

Deno.test("an info hash or magnet is fetched from the tracker's /torrents/<infohash>", async () => {
  await withServer(async (server) => {
    const { bytes, hex } = makeTorrent("by-hash");
    const wrong = makeTorrent("other");
    server.reply = (req) => {
      if (req.path === `/torrents/${hex}`) return new Response(body(bytes));
      if (req.path === `/torrents/${wrong.hex}`) return new Response(body(bytes));
      return new Response("unknown torrent", { status: 404 });
    };
    const tracker = `${server.url}/announce`;
    assert.deepEqual(await loadTorrentSource(hex.toUpperCase(), { tracker }), bytes);
    assert.deepEqual(
      await loadTorrentSource(formatMagnet({ infoHashHex: hex }), { tracker }),
      bytes,
    );
    // Without --tracker, the magnet's own http tracker is asked.
    const magnet = formatMagnet({ infoHashHex: hex, trackers: ["udp://x:1/announce", tracker] });
    assert.deepEqual(await loadTorrentSource(magnet), bytes);
    // A tracker that answers with a different torrent is not trusted.
    await assert.rejects(
      loadTorrentSource(wrong.hex, { tracker }),
      new RegExp(`served a torrent with info hash ${hex}`),
    );
    await assert.rejects(loadTorrentSource("ab".repeat(20), { tracker }), /HTTP 404/);
    assert.deepEqual(server.requests.map((r) => r.path).slice(0, 3), [
      `/torrents/${hex}`,
      `/torrents/${hex}`,
      `/torrents/${hex}`,
    ]);
  });
});

Deno.test("an info hash without a tracker is an input error naming the option", async () => {
  await assert.rejects(loadTorrentSource("ab".repeat(20)), (e) => {
    assert.ok(e instanceof TorrentSourceError);
    assert.match(e.message, /--tracker.*BEP 9/);
    return true;
  });
  await assert.rejects(loadTorrentSource("magnet:?xt=urn:btih:zz"), /invalid magnet/);
});

Deno.test("torrentUrlFor derives the base from the announce URL", () => {
  const hex = "ab".repeat(20);
  assert.equal(torrentUrlFor("http://h:1/announce", hex), `http://h:1/torrents/${hex}`);
  assert.equal(torrentUrlFor("http://h:1/x/announce?k=1", hex), `http://h:1/x/torrents/${hex}`);
  assert.equal(torrentUrlFor("https://h/", hex.toUpperCase()), `https://h/torrents/${hex}`);
  assert.throws(() => torrentUrlFor("udp://h:1/announce", hex), TorrentSourceError);
});
