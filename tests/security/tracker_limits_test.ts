import assert from "node:assert/strict";
import { decode, encode } from "../../src/bencode/mod.ts";
import { parseMetainfo } from "../../src/torrent/mod.ts";
import { startTracker } from "../../src/tracker/server/mod.ts";
import { withTempDir } from "./helpers.ts";

// The tracker over real sockets (Deno.serve): what a hostile client can send it.

const pct = (b: Uint8Array) => [...b].map((x) => "%" + x.toString(16).padStart(2, "0")).join("");
const HASH = Uint8Array.from({ length: 20 }, (_, i) => 0xa0 + i);

/**
 * Sends one raw HTTP/1.1 request and returns the status code and body. Raw, because fetch()
 * refuses to send the oversized URLs these tests need.
 */
async function rawRequest(port: number, head: string, body?: Uint8Array) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const bytes = new TextEncoder().encode(head);
  const writing = (async () => {
    for (let i = 0; i < bytes.length;) i += await conn.write(bytes.subarray(i));
    for (let i = 0; body && i < body.length;) i += await conn.write(body.subarray(i));
  })().catch(() => {}); // the server may close before reading everything: that is the point
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(64 * 1024);
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      chunks.push(buf.slice(0, n));
      const text = new TextDecoder().decode(concatAll(chunks));
      const end = text.indexOf("\r\n\r\n");
      const len = /content-length: (\d+)/i.exec(text)?.[1];
      if (end >= 0 && len !== undefined && text.length >= end + 4 + Number(len)) break;
    }
  } catch {
    // reset by the server after answering
  } finally {
    conn.close();
  }
  await writing;
  const text = new TextDecoder().decode(concatAll(chunks));
  return {
    status: Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1] ?? 0),
    body: text.slice(text.indexOf("\r\n\r\n") + 4),
  };
}

function concatAll(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
}

const get = (port: number, target: string) =>
  rawRequest(port, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);

function announce(id: number, extra = "") {
  const peerId = `-TT0001-${String(id).padStart(12, "0")}`;
  return `/announce?info_hash=${pct(HASH)}&peer_id=${peerId}&port=${1000 + id}&uploaded=0` +
    `&downloaded=0&left=10${extra}`;
}

function peersOf(body: string): Uint8Array {
  const bytes = Uint8Array.from(body, (c) => c.charCodeAt(0));
  const reply = decode(bytes) as Map<string, unknown>;
  return reply.get("peers") as Uint8Array;
}

Deno.test("tracker: query strings over the limit get 414, huge ones are refused, service goes on", async () => {
  const t = await startTracker({ host: "127.0.0.1", port: 0 });
  try {
    const long = await get(t.port, announce(1, `&x=${"a".repeat(20_000)}`));
    assert.equal(long.status, 414);
    const scrape = await get(t.port, `/scrape?${`info_hash=${pct(HASH)}&`.repeat(300)}`);
    assert.equal(scrape.status, 414);
    const page = await get(t.port, `/?q=${"b".repeat(20_000)}`);
    assert.equal(page.status, 414);
    // Far beyond: refused by the HTTP layer itself before any of our code runs.
    const huge = await get(t.port, announce(1, `&x=${"a".repeat(2_000_000)}`));
    assert.ok(huge.status === 414 || huge.status === 400, `status ${huge.status}`);
    const ok = await get(t.port, announce(2));
    assert.equal(ok.status, 200);
    assert.ok(!ok.body.includes("failure reason"), ok.body);
  } finally {
    await t.close();
  }
});

Deno.test("tracker: publishing a body over the limit gets 413 (declared or streamed)", () =>
  withTempDir(async (dir) => {
    const t = await startTracker({
      host: "127.0.0.1",
      port: 0,
      torrentsDir: dir,
      publishToken: "t0k",
      maxTorrentBytes: 64 * 1024,
    });
    try {
      const auth = "Authorization: Bearer t0k\r\n";
      const declared = await rawRequest(
        t.port,
        `POST /torrents HTTP/1.1\r\nHost: x\r\n${auth}Content-Length: 10000000\r\n\r\n`,
        new Uint8Array(100_000),
      );
      assert.equal(declared.status, 413);
      // Chunked, so no length is declared: the limit applies while reading.
      const chunk = `10000\r\n${"a".repeat(0x10000)}\r\n`;
      const streamed = await rawRequest(
        t.port,
        `POST /torrents HTTP/1.1\r\nHost: x\r\n${auth}Transfer-Encoding: chunked\r\n\r\n` +
          chunk.repeat(4) + "0\r\n\r\n",
      );
      assert.equal(streamed.status, 413);
      assert.equal([...Deno.readDirSync(dir)].filter((e) => e.name.endsWith(".torrent")).length, 0);
    } finally {
      await t.close();
    }
  }));

Deno.test("tracker: numwant is capped and the ip parameter is ignored by default", async () => {
  const t = await startTracker({ host: "127.0.0.1", port: 0 });
  try {
    for (let id = 1; id <= 260; id++) {
      const r = await get(t.port, announce(id, "&numwant=0&ip=203.0.113.9"));
      assert.equal(r.status, 200);
    }
    const r = await get(t.port, announce(999, "&numwant=100000"));
    const peers = peersOf(r.body);
    assert.equal(peers.length % 6, 0);
    assert.ok(peers.length / 6 <= 200, `${peers.length / 6} peers handed out`);
    assert.ok(peers.length / 6 >= 50);
    // Every address is the socket's (127.0.0.1), never the claimed 203.0.113.9.
    for (let i = 0; i < peers.length; i += 6) {
      assert.deepEqual([...peers.subarray(i, i + 4)], [127, 0, 0, 1]);
    }
  } finally {
    await t.close();
  }
});

Deno.test("tracker: the HTML page shows a torrent named <script> as text", () =>
  withTempDir(async (dir) => {
    const t = await startTracker({ host: "127.0.0.1", port: 0, torrentsDir: dir });
    try {
      // (A "/" cannot appear in a name, so no closing tag; the opening one is the danger.)
      const name = `<script>alert("x")`;
      const torrent = encode({
        info: { length: 5, name, "piece length": 16384, pieces: new Uint8Array(20) },
      });
      assert.equal(parseMetainfo(torrent).name, name);
      const res = await fetch(`http://127.0.0.1:${t.port}/torrents`, {
        method: "POST",
        body: torrent as Uint8Array<ArrayBuffer>,
      });
      assert.equal(res.status, 201, await res.text());
      const page = await get(t.port, "/");
      assert.equal(page.status, 200);
      assert.ok(page.body.includes("&lt;script&gt;"), "name not shown");
      assert.ok(!page.body.includes("<script>alert"), "name rendered as markup");
    } finally {
      await t.close();
    }
  }));
