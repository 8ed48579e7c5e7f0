// Data changed behind btx's back (the resume file no longer matches): `btx get` re-hashes
// everything and fetches exactly the damaged piece again.
import assert from "node:assert/strict";
import { join } from "node:path";
import { createTorrent } from "../../src/torrent/mod.ts";
import { pseudoRandomBytes, sha256File } from "../helpers/data.ts";
import { BtxProcess, startCliSeeder } from "./btx_process.ts";

const PIECE = 32 * 1024;

Deno.test("btx get repairs a corrupted piece of a finished download, fetching only that piece", async () => {
  const root = await Deno.makeTempDir({ prefix: "btx-e2e-repair-" });
  const procs: BtxProcess[] = [];
  try {
    await Deno.mkdir(join(root, "data"));
    const source = join(root, "data", "file.bin");
    await Deno.writeFile(source, pseudoRandomBytes(20 * PIECE + 777, 11));
    const { torrent, metainfo: meta } = await createTorrent(source, { pieceLength: PIECE });
    await Deno.writeFile(join(root, "file.torrent"), torrent);
    const seed = await startCliSeeder(root, ["file.torrent", "--data", "data"], "seed");
    procs.push(seed.proc);
    const args = [
      "get",
      "file.torrent",
      "-o",
      "out",
      "--port",
      "0",
      "--ip",
      "127.0.0.1",
      "--peer",
      `127.0.0.1:${seed.port}`,
      "--json",
    ];
    const first = new BtxProcess(args, { cwd: root, label: "get (first run)" });
    procs.push(first);
    assert.equal(await first.exitCode(), 0, first.errLines.join("\n"));

    // One byte in piece 7 flipped (and the file's mtime with it).
    const out = join(root, "out", "file.bin");
    const bytes = await Deno.readFile(out);
    bytes[7 * PIECE + 100]! ^= 0xff;
    await Deno.writeFile(out, bytes);

    const second = new BtxProcess(args, { cwd: root, label: "get (second run)" });
    procs.push(second);
    assert.equal(await second.exitCode(), 0, second.errLines.join("\n"));
    const checked = second.events.filter((e) => e.phase === "checking");
    assert.ok(checked.length > 0 && checked[0]!.done !== meta.length, "the data was not re-hashed");
    const done = second.events.find((e) => e.event === "complete");
    assert.equal(done?.downloaded, PIECE);
    assert.equal(await sha256File(out), await sha256File(source));
  } finally {
    for (const p of procs) await p.close();
    await Deno.remove(root, { recursive: true });
  }
});
