// `btx get --seed`: the downloader becomes a seeder and serves the next peer after the original
// seeder is gone.
import assert from "node:assert/strict";
import { join } from "node:path";
import { createTorrent } from "../../src/torrent/mod.ts";
import { pseudoRandomBytes, sha256File } from "../helpers/data.ts";
import { BtxProcess, startCliSeeder } from "./btx_process.ts";

Deno.test("btx get --seed keeps serving after completing; Ctrl-C then exits 0 with its stats", async () => {
  const root = await Deno.makeTempDir({ prefix: "btx-e2e-getseed-" });
  const procs: BtxProcess[] = [];
  try {
    await Deno.mkdir(join(root, "data"));
    const source = join(root, "data", "relay.bin");
    await Deno.writeFile(source, pseudoRandomBytes(700_001, 3));
    const { torrent, metainfo: meta } = await createTorrent(source, { pieceLength: 32 * 1024 });
    await Deno.writeFile(join(root, "relay.torrent"), torrent);
    const seed = await startCliSeeder(root, ["relay.torrent", "--data", "data"], "seed");
    procs.push(seed.proc);
    const getArgs = (out: string, peer: number) => [
      "get",
      "relay.torrent",
      "-o",
      out,
      "--port",
      "0",
      "--ip",
      "127.0.0.1",
      "--peer",
      `127.0.0.1:${peer}`,
      "--json",
    ];

    const relay = new BtxProcess([...getArgs("relay", seed.port), "--seed"], {
      cwd: root,
      label: "get --seed",
    });
    procs.push(relay);
    const port = (await relay.waitForEvent((e) => e.event === "listening")).port as number;
    await relay.waitForEvent((e) => e.event === "complete");
    // The original seeder leaves; the relay is now the only source.
    seed.proc.kill("SIGINT");
    assert.equal(await seed.proc.exitCode(), 0);

    const last = new BtxProcess(getArgs("last", port), { cwd: root, label: "get from relay" });
    procs.push(last);
    assert.equal(await last.exitCode(), 0, last.errLines.join("\n"));
    assert.equal(await sha256File(join(root, "last", "relay.bin")), await sha256File(source));

    relay.kill("SIGINT");
    assert.equal(await relay.exitCode(), 0, relay.errLines.join("\n"));
    const stopped = relay.events.find((e) => e.event === "stopped");
    assert.equal(stopped?.uploaded, meta.length);
    assert.equal(stopped?.piecesHave, meta.pieceCount);
  } finally {
    for (const p of procs) await p.close();
    await Deno.remove(root, { recursive: true });
  }
});
