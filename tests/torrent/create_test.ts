import assert from "node:assert/strict";
import { join } from "node:path";
import {
  autoPieceLength,
  createTorrent,
  CreateTorrentError,
  parseMetainfo,
} from "../../src/torrent/mod.ts";
import { sha1 } from "../../src/util/sha1.ts";
import { concat } from "../../src/util/bytes.ts";
import { BtxError } from "../../src/util/errors.ts";

function hasTool(name: string): boolean {
  try {
    return new Deno.Command(name, { args: ["-h"], stdout: "null", stderr: "null" }).outputSync()
      .code !== 127;
  } catch {
    return false;
  }
}
const haveMktorrent = hasTool("mktorrent");
const skipMktorrent = !haveMktorrent && !Deno.env.get("CI");
if (skipMktorrent) console.log("skipping mktorrent comparisons: mktorrent is not installed");

/** Deterministic, non-repeating bytes (a repeated pattern would hide offset bugs). */
function pseudoRandom(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

async function withTempDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "btx-create-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function mktorrent(target: string, out: string, log2Piece: number, extra: string[] = []) {
  const { code, stderr } = await new Deno.Command("mktorrent", {
    args: [
      "-l",
      String(log2Piece),
      "-a",
      "http://tracker.test/announce",
      ...extra,
      "-o",
      out,
      target,
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  return parseMetainfo(await Deno.readFile(out));
}

async function writeTree(root: string, files: Record<string, Uint8Array>) {
  for (const [path, data] of Object.entries(files)) {
    await Deno.mkdir(join(root, path, ".."), { recursive: true });
    await Deno.writeFile(join(root, path), data);
  }
}

Deno.test({
  name: "single file: same info hash as mktorrent (spans several 4 MiB reads)",
  ignore: skipMktorrent,
  fn: () =>
    withTempDir(async (dir) => {
      const path = join(dir, "data.bin");
      await Deno.writeFile(path, pseudoRandom(9 * 1024 * 1024 + 12345, 1));
      const theirs = await mktorrent(path, join(dir, "m.torrent"), 18);
      const ours = await createTorrent(path, {
        pieceLength: 1 << 18,
        trackers: ["http://tracker.test/announce"],
      });
      assert.equal(ours.metainfo.infoHashHex, theirs.infoHashHex);
      assert.equal(ours.metainfo.pieceCount, 37);
      assert.equal(ours.metainfo.multiFile, false);
    }),
});

Deno.test({
  name: "folder: same info hash as mktorrent (nested, empty file, names sorting around '/')",
  ignore: skipMktorrent,
  fn: () =>
    withTempDir(async (dir) => {
      const root = join(dir, "My Folder");
      await writeTree(root, {
        "a/x": pseudoRandom(40_000, 2),
        "a b/x": pseudoRandom(3, 3),
        "a-b/deep/er/x": pseudoRandom(70_001, 4),
        "a.txt": pseudoRandom(1, 5),
        "Z/q": pseudoRandom(65_536, 6),
        "empty": new Uint8Array(),
        "ünï/cödé.txt": pseudoRandom(10, 7),
      });
      await Deno.mkdir(join(root, "empty-folder", "inner"), { recursive: true });
      for (const priv of [false, true]) {
        const theirs = await mktorrent(root, join(dir, `m${priv}.torrent`), 15, priv ? ["-p"] : []);
        const ours = await createTorrent(root, {
          pieceLength: 1 << 15,
          trackers: ["http://tracker.test/announce"],
          private: priv,
        });
        assert.deepEqual(
          ours.metainfo.files.map((f) => f.path.join("/")),
          theirs.files.map((f) => f.path.join("/")),
        );
        assert.equal(ours.metainfo.infoHashHex, theirs.infoHashHex);
        assert.equal(ours.metainfo.private, priv);
      }
    }),
});

Deno.test("pieces are the SHA-1 of the concatenated files, in mktorrent's path order", () =>
  withTempDir(async (dir) => {
    const files = {
      "b/1": pseudoRandom(5000, 8),
      "a-z": pseudoRandom(20000, 9),
      "a/2": new Uint8Array([1]),
    };
    await writeTree(dir, files);
    const progress: [number, number][] = [];
    const { metainfo, torrent } = await createTorrent(dir, {
      pieceLength: 16384,
      name: "named",
      comment: "hi",
      webSeeds: ["http://seed.test/"],
      trackers: ["http://t1/a", "udp://t2:1"],
      creationDate: 1234,
      onProgress: (done, total) => progress.push([done, total]),
    });
    // '-' (0x2d) sorts before '/' (0x2f), so "a-z" comes before "a/2".
    assert.deepEqual(metainfo.files.map((f) => f.path.join("/")), ["a-z", "a/2", "b/1"]);
    const all = concat([files["a-z"], files["a/2"], files["b/1"]]);
    for (let i = 0; i < metainfo.pieceCount; i++) {
      assert.deepEqual(
        metainfo.pieces.subarray(i * 20, i * 20 + 20),
        sha1(all.subarray(i * 16384, (i + 1) * 16384)),
      );
    }
    assert.equal(metainfo.name, "named");
    assert.equal(metainfo.comment, "hi");
    assert.equal(metainfo.creationDate, 1234);
    assert.match(metainfo.createdBy ?? "", /^btx\/\d+\.\d+\.\d+/);
    assert.deepEqual(metainfo.urlList, ["http://seed.test/"]);
    assert.equal(metainfo.announce, "http://t1/a");
    assert.deepEqual(metainfo.announceList, [["http://t1/a"], ["udp://t2:1"]]);
    assert.deepEqual(parseMetainfo(torrent).infoHash, metainfo.infoHash);
    const dones = progress.map(([d]) => d);
    assert.deepEqual(dones, [...dones].sort((a, b) => a - b));
    assert.deepEqual(progress.at(-1), [all.length, all.length]);
  }));

Deno.test("symlinks inside the folder are skipped and reported, not followed", () =>
  withTempDir(async (dir) => {
    await writeTree(dir, {
      "src/real.txt": pseudoRandom(100, 10),
      "outside.txt": pseudoRandom(50, 11),
    });
    await Deno.symlink(join(dir, "outside.txt"), join(dir, "src", "link.txt"));
    await Deno.symlink(dir, join(dir, "src", "loop"));
    const { metainfo, skipped } = await createTorrent(join(dir, "src"), { creationDate: false });
    assert.deepEqual(metainfo.files.map((f) => f.path.join("/")), ["real.txt"]);
    assert.deepEqual(skipped.sort(), ["link.txt", "loop"]);
    assert.equal(metainfo.creationDate, undefined);
    assert.equal(metainfo.raw.has("announce"), false);
  }));

Deno.test("refuses an empty folder, only-empty files and bad piece lengths", () =>
  withTempDir(async (dir) => {
    await Deno.mkdir(join(dir, "nothing", "deeper"), { recursive: true });
    await assert.rejects(createTorrent(join(dir, "nothing")), CreateTorrentError);
    await writeTree(dir, { "zero/a": new Uint8Array(), "one/a": new Uint8Array(1) });
    await assert.rejects(createTorrent(join(dir, "zero")), /no data/);
    for (const pieceLength of [1000, 8192, 3 * 16384, 2 ** 29]) {
      await assert.rejects(createTorrent(join(dir, "one"), { pieceLength }), /power of two/);
    }
    await assert.rejects(createTorrent(join(dir, "one"), { name: ".." }), /bad name/);
    await assert.rejects(createTorrent(join(dir, "missing")), Deno.errors.NotFound);
  }));

Deno.test("auto piece length: power of two, 1,000-2,000 pieces unless clamped", () => {
  assert.equal(autoPieceLength(1), 16384);
  assert.equal(autoPieceLength(100 * 2 ** 40), 16 * 2 ** 20);
  for (const size of [50e6, 700e6, 4.7e9, 20e9]) {
    const p = autoPieceLength(size);
    assert.equal(p & (p - 1), 0);
    const count = Math.ceil(size / p);
    assert.ok(count > 1000 && count <= 2000, `${size}: ${count} pieces of ${p}`);
  }
});

const PY = "/usr/bin/python3";
function hasLibtorrent(): boolean {
  try {
    return new Deno.Command(PY, {
      args: ["-c", "import libtorrent"],
      stdout: "null",
      stderr: "null",
    })
      .outputSync().success;
  } catch {
    return false;
  }
}
const skipLibtorrent = !hasLibtorrent() && !Deno.env.get("CI");
if (skipLibtorrent) {
  console.log("skipping libtorrent check: /usr/bin/python3 cannot import libtorrent");
}

Deno.test({
  name: "libtorrent loads a btx-made torrent with the same info hash, files and trackers",
  ignore: skipLibtorrent,
  fn: () =>
    withTempDir(async (dir) => {
      await writeTree(join(dir, "pack"), {
        "x/1.bin": pseudoRandom(30_000, 12),
        "x y.bin": pseudoRandom(5, 13),
        "é.txt": pseudoRandom(17_000, 14),
      });
      const { torrent, metainfo } = await createTorrent(join(dir, "pack"), {
        trackers: ["http://t.test/a", "udp://u.test:6969"],
        webSeeds: ["http://w.test/"],
        private: true,
      });
      const path = join(dir, "pack.torrent");
      await Deno.writeFile(path, torrent);
      const script = [
        "import json, sys, libtorrent as lt",
        "ti = lt.torrent_info(sys.argv[1])",
        "fs = ti.files()",
        "print(json.dumps({'hash': str(ti.info_hash()), 'private': ti.priv(),",
        " 'pieces': ti.num_pieces(), 'trackers': [t.url for t in ti.trackers()],",
        " 'files': [[fs.file_path(i), fs.file_size(i)] for i in range(fs.num_files())]}))",
      ].join("\n");
      const { code, stdout, stderr } = await new Deno.Command(PY, {
        args: ["-c", script, path],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(code, 0, new TextDecoder().decode(stderr));
      const lt = JSON.parse(new TextDecoder().decode(stdout));
      assert.equal(lt.hash, metainfo.infoHashHex);
      assert.equal(lt.private, true);
      assert.equal(lt.pieces, metainfo.pieceCount);
      assert.deepEqual(lt.trackers, ["http://t.test/a", "udp://u.test:6969"]);
      assert.deepEqual(
        lt.files,
        metainfo.files.map((f) => [["pack", ...f.path].join("/"), f.length]),
      );
    }),
});

Deno.test("an aborted signal stops hashing with a BtxError, not a raw AbortError", () =>
  withTempDir(async (dir) => {
    await writeTree(dir, { "f.bin": pseudoRandom(1000, 15) });
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(
      createTorrent(join(dir, "f.bin"), { signal: controller.signal }),
      (e: unknown) => e instanceof BtxError && /interrupted/.test(e.message),
    );
  }));
