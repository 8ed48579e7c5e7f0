// `btx get` and `btx seed` refusals: one line on stderr, the right exit code, nothing left running.
import assert from "node:assert/strict";
import { join } from "node:path";
import { btx } from "../helpers/cli.ts";
import { createTorrent } from "../../src/torrent/mod.ts";
import { startTracker } from "../../src/tracker/server/mod.ts";

const HASH = "0123456789abcdef0123456789abcdef01234567";

Deno.test("btx get refuses bad arguments with exit 2", async () => {
  for (
    const argv of [
      ["get"],
      ["get", "a.torrent", "b.torrent"],
      ["get", HASH], // an info hash needs --tracker
      ["get", "a.torrent", "--port", "70000"],
      ["get", "a.torrent", "--max-peers", "0"],
      ["get", "a.torrent", "--peer", "nohost"],
      ["get", "ftp://example.invalid/a.torrent"],
    ]
  ) {
    const r = await btx(...argv);
    assert.equal(r.code, 2, `${argv.join(" ")}: ${r.err.join(" | ")}`);
    assert.match(r.err[0] ?? "", /^btx get: /);
  }
});

Deno.test("btx get of an info hash the tracker does not have fails with exit 1, one line", async () => {
  const tracker = await startTracker({ host: "127.0.0.1", port: 0, interval: 60 });
  try {
    const r = await btx("get", HASH, "--tracker", tracker.url, "-o", "unused");
    assert.equal(r.code, 1);
    assert.equal(r.err.length, 1, r.err.join("\n"));
    assert.match(r.err[0]!, /^btx get: cannot fetch .*404/);
  } finally {
    await tracker.close();
  }
});

Deno.test("btx seed refuses missing data and a zero upload cap", async () => {
  const dir = await Deno.makeTempDir({ prefix: "btx-cli-seed-" });
  try {
    const file = join(dir, "f.bin");
    await Deno.writeFile(file, new Uint8Array(50_000).fill(7));
    const { torrent } = await createTorrent(file, { pieceLength: 16 * 1024 });
    await Deno.writeFile(join(dir, "f.torrent"), torrent);
    await Deno.mkdir(join(dir, "empty"));

    let r = await btx("seed", join(dir, "missing.bin"));
    assert.equal(r.code, 2);
    assert.match(r.err[0]!, /no such file or folder/);
    r = await btx("seed", file, "--max-upload-rate", "0");
    assert.equal(r.code, 2);
    r = await btx("seed", join(dir, "f.torrent"), "--data", join(dir, "empty"), "--port", "0");
    assert.equal(r.code, 2);
    assert.match(r.err[0]!, /no data of f\.bin found/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
