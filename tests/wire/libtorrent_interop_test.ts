import assert from "node:assert/strict";
import { fromHex, utf8Bytes } from "../../src/util/bytes.ts";
import {
  decodeExtendedHandshake,
  encodeExtendedHandshake,
  EXTENDED_HANDSHAKE_ID,
  type Message,
  PeerConnection,
} from "../../src/wire/mod.ts";

const PYTHON = "/usr/bin/python3";
const SEEDER = new URL("./libtorrent_seed.py", import.meta.url).pathname;

function libtorrentAvailable(): boolean {
  try {
    const probe = new Deno.Command(PYTHON, { args: ["-c", "import libtorrent"], stderr: "null" });
    return probe.outputSync().success;
  } catch {
    return false;
  }
}

const available = libtorrentAvailable();
if (!available && !Deno.env.get("CI")) {
  console.log("skipping libtorrent interop: /usr/bin/python3 cannot import libtorrent");
}

Deno.test({
  name: "PeerConnection talks BEP 3/6/10 with a libtorrent seeder",
  ignore: !available && !Deno.env.get("CI"),
  async fn() {
    const folder = await Deno.makeTempDir({ prefix: "btx-wire-lt-" });
    const seeder = new Deno.Command(PYTHON, {
      args: [SEEDER, folder],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const reader = seeder.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let peer: PeerConnection | undefined;
    try {
      let line = "";
      while (!line.includes("\n")) {
        const { value, done } = await reader.read();
        if (done) throw new Error("libtorrent seeder exited before it was ready");
        line += value;
      }
      const [hashHex, portText] = line.trim().split(" ");
      const infoHash = fromHex(hashHex!)!;
      peer = await PeerConnection.connect({
        hostname: "127.0.0.1",
        port: Number(portText),
        infoHash,
        peerId: utf8Bytes("-BX0001-interop-test"),
        extended: true,
        fast: true,
        timeoutMs: 10_000,
      });
      assert.equal(peer.remoteExtended, true);
      assert.equal(peer.remoteFast, true);

      const conn = peer;
      const seen: Message[] = [];
      let block: Uint8Array | undefined;
      conn.send({
        type: "extended",
        id: EXTENDED_HANDSHAKE_ID,
        payload: encodeExtendedHandshake({ m: { ut_metadata: 3 }, v: "btx test" }),
      });
      conn.send({ type: "interested" });
      // A guard, not a timing assertion: a seeder that never unchokes fails instead of hanging.
      const guard = setTimeout(() => conn.close(), 30_000);
      await conn.run((m) => {
        seen.push(m);
        if (m.type === "unchoke") {
          conn.send({ type: "request", index: 1, begin: 16384, length: 16384 });
        } else if (m.type === "piece") {
          block = m.block;
          conn.close();
        }
      });
      clearTimeout(guard);

      // A seed that saw our fast bit announces itself with have-all (BEP 6).
      assert.ok(seen.some((m) => m.type === "haveAll"), "have-all received");
      const ext = seen.find((m) => m.type === "extended" && m.id === EXTENDED_HANDSHAKE_ID);
      assert.ok(ext?.type === "extended");
      const handshake = decodeExtendedHandshake(ext.payload);
      assert.ok(handshake.m.has("ut_metadata"));
      assert.ok((handshake.metadataSize ?? 0) > 0);
      assert.ok(handshake.v?.includes("libtorrent"), handshake.v);
      assert.equal(peer.closeError, undefined);
      const expected = Uint8Array.from(
        { length: 16384 },
        (_, i) => ((32768 + 16384 + i) * 31 + 7) & 0xff,
      );
      assert.deepEqual(block, expected);
      assert.equal(peer.pieceBytesIn, 16384);
    } finally {
      peer?.close();
      await seeder.stdin.close();
      await reader.cancel();
      await seeder.status;
      await Deno.remove(folder, { recursive: true });
    }
  },
});
