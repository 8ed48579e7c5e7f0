import assert from "node:assert/strict";
import { encode } from "../../../src/bencode/mod.ts";
import { parseMetainfo } from "../../../src/torrent/mod.ts";
import { sha1 } from "../../../src/util/sha1.ts";
import { announcePath, pct, peerId, testTracker, text } from "./helpers.ts";

/** A tiny single-file torrent, hand-built. */
function torrentBytes(name: string, length = 5): Uint8Array {
  return encode({
    announce: "http://127.0.0.1:1/announce",
    info: { length, name, "piece length": 16384, pieces: new Uint8Array(20) },
  });
}

async function publish(
  t: Awaited<ReturnType<typeof testTracker>>,
  body: Uint8Array,
  token?: string,
) {
  const res = await t.app.request("/torrents", {
    method: "POST",
    body: body as Uint8Array<ArrayBuffer>,
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  }, { remoteAddr: { hostname: "10.0.0.1" } });
  return { status: res.status, json: await res.json() };
}

Deno.test("publish: POST /torrents stores the file, lists it, serves it, survives restart", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const bytes = torrentBytes(`<img src=x onerror="alert(1)"> & co`);
    const m = parseMetainfo(bytes);
    const t = await testTracker({ torrentsDir: dir });
    try {
      const first = await publish(t, bytes);
      assert.equal(first.status, 201);
      assert.equal(first.json.infoHash, m.infoHashHex);
      assert.equal(first.json.created, true);
      assert.equal((await publish(t, bytes)).status, 200);
      await t.get(announcePath({ hash: m.infoHash, id: peerId("s"), port: 1, left: 0 }));

      const list = JSON.parse(text((await t.get("/torrents")).body));
      assert.equal(list.length, 1);
      assert.equal(list[0].name, `<img src=x onerror="alert(1)"> & co`);
      assert.equal(list[0].length, 5);
      assert.equal(list[0].fileCount, 1);
      assert.equal(list[0].seeders, 1);
      assert.equal(list[0].leechers, 0);
      assert.match(list[0].magnet, new RegExp(`^magnet:\\?xt=urn:btih:${m.infoHashHex}&dn=`));

      const file = await t.get(`/torrents/${m.infoHashHex}`);
      assert.equal(file.status, 200);
      assert.deepEqual(file.body, bytes);
      assert.equal((await t.get(`/torrents/${"0".repeat(40)}`)).status, 404);

      const page = text((await t.get("/")).body);
      assert.ok(page.includes("&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; co"));
      assert.ok(!page.includes("<img"));
    } finally {
      await t.close();
    }
    const again = await testTracker({ torrentsDir: dir, whitelist: true });
    try {
      assert.equal(again.catalog?.size, 1);
      const ok = await again.get(announcePath({ hash: m.infoHash, id: peerId("a"), port: 1 }));
      assert.ok(!text(ok.body).includes("failure reason"));
    } finally {
      await again.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("publish: bad bodies, size limit and token are refused", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const t = await testTracker({ torrentsDir: dir, publishToken: "s3cret", maxTorrentBytes: 200 });
    try {
      assert.equal((await publish(t, torrentBytes("a"))).status, 401);
      assert.equal((await publish(t, torrentBytes("a"), "wrong")).status, 401);
      const junk = await publish(t, new TextEncoder().encode("not bencode"), "s3cret");
      assert.equal(junk.status, 400);
      assert.match(junk.json.error, /not a valid torrent/);
      const noInfo = await publish(t, encode({ announce: "x" }), "s3cret");
      assert.equal(noInfo.status, 400);
      assert.equal((await publish(t, new Uint8Array(500), "s3cret")).status, 413);
      assert.equal((await publish(t, torrentBytes("a"), "s3cret")).status, 201);
      const files = [...Deno.readDirSync(dir)].map((e) => e.name);
      assert.equal(files.length, 1);
      assert.match(files[0]!, /^[0-9a-f]{40}\.torrent$/);
    } finally {
      await t.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("catalog: files that do not parse or do not match their name are skipped", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const good = torrentBytes("good");
    const hex = parseMetainfo(good).infoHashHex;
    await Deno.writeFile(`${dir}/${hex}.torrent`, good);
    await Deno.writeFile(`${dir}/${"1".repeat(40)}.torrent`, torrentBytes("misnamed"));
    await Deno.writeFile(`${dir}/${"2".repeat(40)}.torrent`, new Uint8Array([1, 2, 3]));
    const warnings: string[] = [];
    const t = await testTracker({ torrentsDir: dir, onWarning: (m) => warnings.push(m) });
    try {
      assert.equal(t.catalog?.size, 1);
      assert.equal(warnings.length, 2);
      const s = await t.get(`/scrape?info_hash=${pct(sha1(new Uint8Array(0)))}`);
      assert.equal(s.status, 200);
    } finally {
      await t.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
