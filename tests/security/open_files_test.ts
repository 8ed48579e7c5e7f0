import assert from "node:assert/strict";
import { join } from "node:path";
import { Client } from "../../src/client/client.ts";
import { TorrentSession } from "../../src/client/session/session.ts";
import { createTorrent } from "../../src/torrent/mod.ts";
import { compareTrees, writeTree } from "../helpers/data.ts";
import { withTempDir } from "./helpers.ts";
import { within } from "./swarm.ts";

// "Too many open files": a torrent of 600 small files, downloaded by a `btx get` process whose
// file-descriptor limit (128) is far below the file count. Storage keeps at most 64 handles
// open (LRU), so the download completes instead of failing with EMFILE.

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const FILES = 600;

Deno.test("btx get with ulimit -n 128 downloads a 600-file torrent", () =>
  withTempDir(async (root) => {
    const tree: Record<string, number> = {};
    for (let i = 0; i < FILES; i++) tree[`d${i % 7}/f${i}.bin`] = 1000 + (i * 37) % 5000;
    await writeTree(join(root, "src", "many"), tree);
    const { torrent, metainfo } = await createTorrent(join(root, "src", "many"), {
      pieceLength: 16 * 1024, // pieces span several files
    });
    await Deno.writeFile(join(root, "many.torrent"), torrent);
    const client = Client.start({ port: 0, hostname: "127.0.0.1" });
    const seeder = await TorrentSession.start(client, metainfo, {
      dir: join(root, "src"),
      seed: true,
      trackers: [],
    });
    try {
      const cmd = `ulimit -n 128 && exec "$0" run -A "$1" get "$2" -o "$3" --port 0 ` +
        `--ip 127.0.0.1 --peer "$4" --verbose`;
      const child = new Deno.Command("sh", {
        args: [
          "-c",
          cmd,
          Deno.execPath(),
          MAIN,
          join(root, "many.torrent"),
          join(root, "out"),
          `127.0.0.1:${client.port}`,
        ],
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const output = child.output();
      const res = await within(output, "the download").catch(async (e) => {
        child.kill("SIGKILL");
        const o = await output;
        throw new Error(`${e.message}:\n${new TextDecoder().decode(o.stderr).slice(0, 3000)}`);
      });
      const err = new TextDecoder().decode(res.stderr);
      assert.equal(res.code, 0, err);
      assert.equal(await compareTrees(join(root, "src", "many"), join(root, "out", "many")), FILES);
    } finally {
      await seeder.stop();
      await client.close();
    }
  }));
