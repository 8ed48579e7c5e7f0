// One `btx seed` process serving several torrents on one port; `btx get` finds each by info hash.
import assert from "node:assert/strict";
import { join } from "node:path";
import { parseMetainfo } from "../../src/torrent/mod.ts";
import { compareTrees, pseudoRandomBytes, sha256File, writeTree } from "../helpers/data.ts";
import { BtxProcess, startCliSeeder, startCliTracker, waitForCounts } from "./btx_process.ts";

Deno.test("btx seed serves a file and a folder on one port; btx get fetches both", async () => {
  const root = await Deno.makeTempDir({ prefix: "btx-e2e-port-" });
  const procs: BtxProcess[] = [];
  try {
    await Deno.mkdir(join(root, "data"));
    await Deno.writeFile(join(root, "data", "single.bin"), pseudoRandomBytes(300_000, 5));
    await writeTree(join(root, "data", "folder"), { "x.bin": 123_456, "y/z.bin": 65_537 });
    const tracker = await startCliTracker(root);
    procs.push(tracker.proc);
    const seed = await startCliSeeder(
      root,
      ["data/single.bin", "data/folder", "--tracker", tracker.url, "--piece-length", "16K"],
      "seed",
    );
    procs.push(seed.proc);
    const seeding = seed.proc.events.filter((e) => e.event === "seeding");
    assert.equal(seeding.length, 2);
    assert.equal(seed.proc.events.find((e) => e.event === "ready")?.torrents, 2);
    const metas = await Promise.all(
      ["single.bin", "folder"].map(async (name) =>
        parseMetainfo(await Deno.readFile(join(root, "torrents", `${name}.torrent`)))
      ),
    );
    for (const meta of metas) {
      await waitForCounts(tracker.url, meta.infoHashHex, (c) => c.seeders === 1);
    }
    // Both downloads at once, each by info hash through the tracker's /torrents.
    const gets = metas.map((meta) =>
      new BtxProcess(
        [
          "get",
          meta.infoHashHex,
          "--tracker",
          tracker.url,
          "-o",
          `out-${meta.name}`,
          "--port",
          "0",
          "--ip",
          "127.0.0.1",
          "--json",
        ],
        { cwd: root, label: `get ${meta.name}` },
      )
    );
    procs.push(...gets);
    for (const get of gets) assert.equal(await get.exitCode(), 0, get.errLines.join("\n"));
    assert.equal(
      await sha256File(join(root, "out-single.bin", "single.bin")),
      await sha256File(join(root, "data", "single.bin")),
    );
    assert.equal(
      await compareTrees(join(root, "data", "folder"), join(root, "out-folder", "folder")),
      2,
    );
    seed.proc.kill("SIGINT");
    assert.equal(await seed.proc.exitCode(), 0);
    const stopped = seed.proc.events.filter((e) => e.event === "stopped");
    assert.deepEqual(stopped.map((e) => e.uploaded), metas.map((m) => m.length));
  } finally {
    for (const p of procs) await p.close();
    await Deno.remove(root, { recursive: true });
  }
});
