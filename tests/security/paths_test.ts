import assert from "node:assert/strict";
import { join } from "node:path";
import { Client } from "../../src/client/client.ts";
import { TorrentSession } from "../../src/client/session/session.ts";
import { Storage, StorageError } from "../../src/client/storage/storage.ts";
import { type Metainfo, parseMetainfo } from "../../src/torrent/mod.ts";
import { btx, content, handTorrent, snapshot, withTempDir } from "./helpers.ts";

// Whatever a torrent names and whatever already sits in the output folder, btx creates and
// changes nothing outside `-o`. Each test snapshots the whole temp root (every path, type,
// size and mtime) except the output folder, and compares after.

const HOSTILE: [string, Uint8Array][] = [
  ["name ..", handTorrent("..", content(100, 1))],
  ["name /abs", handTorrent("/tmp/btx-escape", content(100, 1))],
  ["name C:\\x", handTorrent("C:\\x", content(100, 1))],
  ["name with NUL", handTorrent("a\0b", content(100, 1))],
  ["300-byte name", handTorrent("n".repeat(300), content(100, 1))],
  ["path ..", handTorrent("top", [{ path: ["..", "x"], data: content(100, 1) }])],
  ["path ../../x", handTorrent("top", [{ path: ["../../x"], data: content(100, 1) }])],
  ["path ../ split", handTorrent("top", [{ path: ["..", "..", "x"], data: content(100, 1) }])],
  ["path /abs", handTorrent("top", [{ path: ["/etc", "x"], data: content(100, 1) }])],
  ["path C:\\x", handTorrent("top", [{ path: ["C:\\x"], data: content(100, 1) }])],
  ["path with NUL", handTorrent("top", [{ path: ["a\0b"], data: content(100, 1) }])],
  ["300-byte component", handTorrent("top", [{ path: ["c".repeat(300)], data: content(9, 1) }])],
  ["empty path", handTorrent("top", [{ path: [], data: content(100, 1) }])],
  [
    "duplicate paths",
    handTorrent("top", [{ path: ["a"], data: content(10, 1) }, {
      path: ["a"],
      data: content(10, 2),
    }]),
  ],
  [
    "file and folder",
    handTorrent("top", [{ path: ["a"], data: content(10, 1) }, {
      path: ["a", "b"],
      data: content(10, 2),
    }]),
  ],
];

Deno.test("btx get refuses hostile torrents with one line, exit 2, and creates nothing", () =>
  withTempDir(async (root) => {
    for (const [label, bytes] of HOSTILE) {
      const file = join(root, "hostile.torrent");
      await Deno.writeFile(file, bytes);
      const before = await snapshot(root);
      const out = join(root, "deep", "out");
      const r = await btx("get", file, "-o", out, "--port", "0", "--ip", "127.0.0.1");
      assert.equal(r.code, 2, `${label}: exit ${r.code} ${r.err}`);
      assert.equal(r.err.length, 1, `${label}: ${r.err.join("|")}`);
      assert.match(r.err[0]!, /^btx get: invalid torrent: info\./, label);
      assert.deepEqual(await snapshot(root), before, `${label}: something was created`);
    }
  }));

/** A parsed torrent changed after parsing, as a bug or another caller could hand it over. */
function tampered(change: (m: Metainfo) => void): Metainfo {
  const m = parseMetainfo(
    handTorrent("top", [{ path: ["sub", "a"], data: content(40_000, 3) }, {
      path: ["b"],
      data: content(10, 4),
    }]),
  );
  change(m);
  return m;
}

Deno.test("storage refuses or safely maps a Metainfo that skipped the parser", () =>
  withTempDir(async (root) => {
    const escaping: [string, Metainfo][] = [
      ["name ../escape", tampered((m) => (m.name = "../escape"))],
      ["name ..", tampered((m) => (m.name = ".."))],
      ["path ..", tampered((m) => (m.files[1]!.path = ["..", "..", "x"]))],
      ["path a/../..", tampered((m) => (m.files[0]!.path = ["a", "..", "..", "x"]))],
    ];
    // Absolute names are joined below the output folder, never used as they are.
    const mapped: [string, Metainfo][] = [
      ["name /abs", tampered((m) => (m.name = join(root, "abs")))],
      ["path /abs", tampered((m) => (m.files[1]!.path = [join(root, "abs")]))],
    ];
    const out = join(root, "out");
    await Deno.mkdir(out);
    const before = await snapshot(root);
    for (const [label, meta] of escaping) {
      await assert.rejects(Storage.open(meta, out), StorageError, label);
      assert.deepEqual(await snapshot(root), before, label);
    }
    for (const [label, meta] of mapped) {
      const storage = await Storage.open(meta, out);
      for (let i = 0; i < meta.pieceCount; i++) {
        await storage.writePiece(i, new Uint8Array(storage.layout.pieceSize(i)));
      }
      await storage.close();
      const after = await snapshot(root);
      for (const path of after.keys()) {
        assert.ok(before.has(path) || path.startsWith(out + "/"), `${label}: created ${path}`);
      }
      assert.ok(after.size > before.size, `${label}: wrote nothing`);
      await Deno.remove(out, { recursive: true });
      await Deno.mkdir(out);
    }
  }));

const DATA = [
  { path: ["a.bin"], data: content(50_000, 11) },
  { path: ["sub", "b.bin"], data: content(30_000, 12) },
];

/** Seeds `torrent` from `src` in this process; returns its address for `--peer`. */
async function seeder(torrent: Uint8Array, src: string) {
  const meta = parseMetainfo(torrent);
  const client = Client.start({ port: 0, hostname: "127.0.0.1" });
  const session = await TorrentSession.start(client, meta, { dir: src, seed: true, trackers: [] });
  return {
    peer: `127.0.0.1:${client.port}`,
    async close() {
      await session.stop();
      await client.close();
    },
  };
}

async function writeSource(src: string, name: string) {
  for (const f of DATA) {
    const path = join(src, name, ...(f.path as string[]));
    await Deno.mkdir(join(path, ".."), { recursive: true });
    await Deno.writeFile(path, f.data);
  }
}

/** Plants what `plant` makes in the output folder, downloads, and checks the outside. */
async function downloadInto(
  plant: (out: string, outside: string) => Promise<void>,
  torrent = handTorrent("top", DATA),
) {
  let result: Awaited<ReturnType<typeof btx>> | undefined;
  await withTempDir(async (root) => {
    const src = join(root, "src");
    await writeSource(src, "top");
    await Deno.writeFile(join(src, "single.bin"), DATA[0]!.data);
    const outside = join(root, "outside");
    await Deno.mkdir(outside);
    await Deno.writeFile(join(outside, "victim"), new TextEncoder().encode("keep me"));
    const out = join(root, "out");
    await Deno.mkdir(out);
    await plant(out, outside);
    const file = join(root, "t.torrent");
    await Deno.writeFile(file, torrent);
    const seed = await seeder(torrent, src);
    try {
      const before = await snapshot(outside);
      result = await btx("get", file, "-o", out, "--port", "0", "--peer", seed.peer);
      assert.deepEqual(await snapshot(outside), before, "the outside folder changed");
    } finally {
      await seed.close();
    }
  });
  return result!;
}

function assertRefused(r: Awaited<ReturnType<typeof btx>>) {
  assert.equal(r.code, 1, r.err.join("\n"));
  assert.equal(r.err.length, 1, r.err.join("\n"));
  assert.match(r.err[0]!, /^btx get: .*(symlink points outside|not a folder)/);
}

Deno.test("symlinked torrent folder pointing outside: refused, outside untouched", async () => {
  assertRefused(await downloadInto((out, outside) => Deno.symlink(outside, join(out, "top"))));
});

Deno.test("symlinked subfolder pointing outside: refused, outside untouched", async () => {
  assertRefused(
    await downloadInto(async (out, outside) => {
      await Deno.mkdir(join(out, "top"));
      await Deno.symlink(outside, join(out, "top", "sub"));
    }),
  );
});

Deno.test("symlinked data file pointing at a file outside: refused, file untouched", async () => {
  assertRefused(
    await downloadInto(async (out, outside) => {
      await Deno.mkdir(join(out, "top"));
      await Deno.symlink(join(outside, "victim"), join(out, "top", "a.bin"));
    }),
  );
});

Deno.test("dangling symlink to a file outside is not created through", async () => {
  assertRefused(
    await downloadInto(async (out, outside) => {
      await Deno.symlink(join(outside, "new-file"), join(out, "single.bin"));
    }, handTorrent("single.bin", DATA[0]!.data)),
  );
});

Deno.test("symlinked resume folder (.btx) pointing outside: no resume file is written there", async () => {
  const r = await downloadInto((out, outside) => Deno.symlink(outside, join(out, ".btx")));
  // The data itself is fine to download; only the resume file must not land outside.
  assert.equal(r.code, 0, r.err.join("\n"));
  assert.match(r.out.at(-1) ?? "", /^complete: top/);
});
