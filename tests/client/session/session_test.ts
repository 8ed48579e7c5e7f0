import assert from "node:assert/strict";
import { join } from "node:path";
import { Client } from "../../../src/client/client.ts";
import { TorrentSession } from "../../../src/client/session/session.ts";
import { createTorrent, type Metainfo } from "../../../src/torrent/mod.ts";
import { compareTrees, writeTree } from "../../helpers/data.ts";

const LOOPBACK = "127.0.0.1";

async function makeSwarmData(root: string) {
  const src = join(root, "src");
  // Pieces of 32 KiB cross file boundaries; the last piece is short; one file is empty.
  await writeTree(join(src, "album"), {
    "a.bin": 100_000,
    "empty.txt": 0,
    "sub/b.bin": 70_001,
    "sub/c.bin": 16_384,
    "z.bin": 250_123,
  });
  const { metainfo } = await createTorrent(join(src, "album"), { pieceLength: 32 * 1024 });
  return { src, meta: metainfo };
}

async function seeder(meta: Metainfo, dir: string, opts: { download?: boolean } = {}) {
  const client = Client.start({ port: 0, hostname: LOOPBACK });
  const session = await TorrentSession.start(client, meta, {
    dir,
    seed: true,
    trackers: [],
    ...opts,
  });
  return { client, session, address: { hostname: LOOPBACK, port: client.port } };
}

Deno.test("downloads a multi-file torrent from 3 seeders; every seeder serves", async () => {
  const root = await Deno.makeTempDir();
  const closers: (() => Promise<void>)[] = [];
  try {
    const { src, meta } = await makeSwarmData(root);
    const seeds = [];
    for (let i = 0; i < 3; i++) {
      const s = await seeder(meta, src);
      closers.push(() => s.session.stop(), () => s.client.close());
      assert.ok(s.session.isComplete);
      seeds.push(s);
    }
    const client = Client.start({ port: 0, hostname: LOOPBACK });
    closers.push(() => client.close());
    const out = join(root, "out");
    const session = await TorrentSession.start(client, meta, {
      dir: out,
      trackers: [],
      peers: seeds.map((s) => s.address),
      // A small in-flight window spreads requests over all seeders.
      maxUnverifiedBytes: 64 * 1024,
    });
    closers.push(() => session.stop());
    await session.complete;
    await session.stop();
    assert.equal(await compareTrees(join(src, "album"), join(out, "album")), 5);
    for (const s of seeds) assert.ok(s.session.uploaded > 0, "a seeder served no block");
    assert.equal(session.downloaded >= meta.length, true);
  } finally {
    for (const close of closers.reverse()) await close();
    await Deno.remove(root, { recursive: true });
  }
});
