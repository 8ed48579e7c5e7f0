import assert from "node:assert/strict";
import { join } from "node:path";
import { createTorrent, download, parseMetainfo, seed, startTracker } from "../src/mod.ts";
import { compareTrees, writeTree } from "./helpers/data.ts";

Deno.test("library API: tracker + seed + download, as in the module docs", async () => {
  const root = await Deno.makeTempDir();
  const tracker = await startTracker({ host: "127.0.0.1", port: 0 });
  try {
    await writeTree(join(root, "data"), { "film/a.bin": 300_000, "film/b.bin": 5 });
    const { torrent, metainfo } = await createTorrent(join(root, "data", "film"), {
      trackers: [tracker.url],
      pieceLength: 16384,
    });
    assert.equal(parseMetainfo(torrent).infoHashHex, metainfo.infoHashHex);
    const seeder = await seed(metainfo, { dir: join(root, "data"), hostname: "127.0.0.1" });
    try {
      const stats = await download(metainfo, { dir: join(root, "dl"), hostname: "127.0.0.1" });
      assert.equal(stats.piecesHave, metainfo.pieceCount);
      assert.equal(stats.have, metainfo.length);
      assert.equal(await compareTrees(join(root, "data", "film"), join(root, "dl", "film")), 2);
    } finally {
      await seeder.stop();
    }
  } finally {
    await tracker.close();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("library API: one TrackerError for the tracker server and the tracker client", async () => {
  const { announce, TrackerError } = await import("../src/mod.ts");
  const tracker = await startTracker({ host: "127.0.0.1", port: 0 });
  try {
    // The port is taken: the server's own error is the exported TrackerError.
    await assert.rejects(
      startTracker({ host: "127.0.0.1", port: tracker.port, http: "deno" }),
      (e) => e instanceof TrackerError && e.kind === "server",
    );
    // A refusal from the tracker is the same class on the client side.
    await assert.rejects(
      announce(tracker.url, {
        infoHash: new Uint8Array(20),
        peerId: new Uint8Array(20),
        port: 0,
        uploaded: 0,
        downloaded: 0,
        left: 0,
      }),
      (e) => e instanceof TrackerError && e.kind === "failure",
    );
  } finally {
    await tracker.close();
  }
});
