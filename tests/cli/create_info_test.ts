import assert from "node:assert/strict";
import { join } from "node:path";
import { encode } from "../../src/bencode/mod.ts";
import { btx } from "../helpers/cli.ts";

async function withTempDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "btx-cli-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("btx create then btx info round-trip (text and --json)", () =>
  withTempDir(async (dir) => {
    const src = join(dir, "share");
    await Deno.mkdir(join(src, "sub"), { recursive: true });
    await Deno.writeFile(join(src, "sub", "b.bin"), new Uint8Array(40_000).map((_, i) => i * 7));
    await Deno.writeFile(join(src, "a.txt"), new TextEncoder().encode("hello\n"));
    const out = join(dir, "out", "share.torrent");
    const created = await btx(
      "create",
      src,
      "-o",
      out,
      "-t",
      "http://t.test/announce",
      "-t",
      "udp://u.test:1",
      "--piece-length",
      "16K",
      "--private",
      "--comment",
      "a comment",
      "-w",
      "http://w.test/",
      "--json",
    );
    assert.equal(created.code, 0, created.err.join("\n"));
    const c = JSON.parse(created.out.join("\n"));
    assert.equal(c.output, out);
    assert.match(c.infoHash, /^[0-9a-f]{40}$/);
    assert.equal(c.pieceLength, 16384);
    assert.equal(c.length, 40_006);
    assert.equal(c.pieceCount, 3);

    const info = await btx("info", out, "--json");
    assert.equal(info.code, 0, info.err.join("\n"));
    const i = JSON.parse(info.out.join("\n"));
    assert.equal(i.infoHash, c.infoHash);
    assert.equal(i.name, "share");
    assert.deepEqual(i.files, [{ path: "a.txt", length: 6 }, {
      path: "sub/b.bin",
      length: 40_000,
    }]);
    assert.deepEqual(i.announceList, [["http://t.test/announce"], ["udp://u.test:1"]]);
    assert.deepEqual(i.urlList, ["http://w.test/"]);
    assert.equal(i.private, true);
    assert.equal(i.comment, "a comment");
    assert.equal(i.magnet, c.magnet);

    const text = await btx("info", out);
    assert.equal(text.code, 0);
    const joined = text.out.join("\n");
    assert.match(joined, new RegExp(`info hash\\s+${c.infoHash}`));
    assert.match(joined, /share\/sub\/b\.bin/);
    assert.match(joined, /tier 2: udp:\/\/u\.test:1/);

    const magnet = await btx("info", c.magnet, "--json");
    assert.equal(magnet.code, 0);
    const mg = JSON.parse(magnet.out.join("\n"));
    assert.equal(mg.infoHash, c.infoHash);
    assert.equal(mg.name, "share");
    assert.deepEqual(mg.trackers, ["http://t.test/announce", "udp://u.test:1"]);

    // An existing output is refused (one line, exit 2) unless --force.
    const again = await btx("create", src, "-o", out);
    assert.equal(again.code, 2);
    assert.equal(again.err.length, 1);
    assert.match(again.err[0]!, /already exists.*--force/);
    const forced = await btx("create", src, "-o", out, "--force", "--piece-length", "32768");
    assert.equal(forced.code, 0, forced.err.join("\n"));
    assert.match(forced.out.join("\n"), /info hash\s+[0-9a-f]{40}/);
    assert.match(forced.out.join("\n"), /magnet\s+magnet:\?xt=urn:btih:/);
  }));

Deno.test("btx info on bad torrents prints one line naming the problem and exits 2", () =>
  withTempDir(async (dir) => {
    const info = (files: unknown, pieces = new Uint8Array(20)) =>
      encode({ info: { name: "x", "piece length": 16384, pieces, files: files as never } });
    const cases: [string, Uint8Array, RegExp][] = [
      [
        "truncated",
        info([{ length: 1, path: ["a"] }]).subarray(0, 30),
        /invalid bencode at byte \d+/,
      ],
      ["huge-prefix", new TextEncoder().encode("d4:info999999999999:e"), /at byte 7/],
      ["traversal", info([{ length: 1, path: ["..", "etc"] }]), /info\.files\[0\]\.path\[0\]/],
      ["count", info([{ length: 1, path: ["a"] }], new Uint8Array(40)), /info\.pieces/],
    ];
    for (const [name, bytes, pattern] of cases) {
      const path = join(dir, `${name}.torrent`);
      await Deno.writeFile(path, bytes);
      const r = await btx("info", path);
      assert.equal(r.code, 2, name);
      assert.deepEqual(r.out, [], name);
      assert.equal(r.err.length, 1, `${name}: ${r.err.join("\n")}`);
      assert.match(r.err[0]!, pattern, name);
      assert.ok(r.err[0]!.includes(path), name);
    }
    const badMagnet = await btx("info", "magnet:?xt=urn:btih:zz");
    assert.equal(badMagnet.code, 2);
    assert.equal(badMagnet.err.length, 1);
    assert.match(badMagnet.err[0]!, /invalid magnet link/);
  }));

Deno.test("btx info as a real process: one stderr line, exit code 2", () =>
  withTempDir(async (dir) => {
    const path = join(dir, "bad.torrent");
    await Deno.writeFile(path, new TextEncoder().encode("d4:infod6:pieces3:abcee"));
    const mainTs = new URL("../../main.ts", import.meta.url).pathname;
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", mainTs, "info", path],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(code, 2);
    assert.equal(new TextDecoder().decode(stdout), "");
    const lines = new TextDecoder().decode(stderr).trimEnd().split("\n");
    assert.equal(lines.length, 1, lines.join("\n"));
    assert.match(
      lines[0]!,
      /^btx info: .*bad\.torrent: invalid torrent: info\.piece length: missing$/,
    );
  }));
