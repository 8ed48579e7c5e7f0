import assert from "node:assert/strict";
import { join } from "node:path";
import type { Peer } from "../../src/client/peers/peer.ts";
import { equals } from "../../src/util/bytes.ts";
import { encodeMessage, type Message } from "../../src/wire/mod.ts";
import { withTempDir } from "./helpers.ts";
import { type PeerScript, ScriptedPeer } from "./scripted_peer.ts";
import {
  DATA,
  hasData,
  META,
  PIECE_LENGTH,
  startSession,
  type TestSession,
  within,
  writeData,
} from "./swarm.ts";

// Hostile downloaders against a seeding session: bad requests are refused without data, and
// a request flood from a peer that never reads leaves the seeder's memory bounded while an
// honest downloader still completes.

async function withSeeder(fn: (seeder: TestSession, root: string) => Promise<void>) {
  await withTempDir(async (root) => {
    await writeData(join(root, "seed"));
    const seeder = await startSession(join(root, "seed"));
    try {
      await fn(seeder, root);
    } finally {
      await seeder.close();
    }
  });
}

async function nextOf(p: PeerScript, type: Message["type"]): Promise<Message | undefined> {
  for (let m = await p.next(); m; m = await p.next()) if (m.type === type) return m;
  return undefined;
}

const lastPiece = META.pieceCount - 1;
const BAD_REQUESTS = [
  { index: META.pieceCount, begin: 0, length: 16384 }, // no such piece
  { index: 0, begin: PIECE_LENGTH - 100, length: 16384 }, // past the piece's end
  { index: 0, begin: 0, length: 256 * 1024 }, // over 128 KiB
  { index: 0, begin: 0, length: 0 },
  { index: lastPiece, begin: 0, length: PIECE_LENGTH }, // the last piece is short
  { index: 0, begin: 2 ** 31, length: 16384 },
];
const GOOD = { index: 1, begin: 16384, length: 16384 };

for (const fast of [true, false]) {
  Deno.test(`requests out of range or over 128 KiB get no data (${fast ? "BEP 6 rejects" : "ignored"}); a good one is served`, () =>
    withSeeder(async (seeder) => {
      const seen: Message[] = [];
      const hostile = ScriptedPeer.dial(META, seeder.client.port, async (p) => {
        await p.send({ type: "interested" });
        if (!(await nextOf(p, "unchoke"))) throw new Error("never unchoked");
        for (const r of BAD_REQUESTS) await p.send({ type: "request", ...r });
        await p.send({ type: "request", ...GOOD });
        for (let m = await p.next(); m; m = await p.next()) {
          seen.push(m);
          if (m.type === "piece") break;
        }
      }, { fast });
      await within(hostile.done(), "the scripted peer");
      await hostile.close();
      assert.deepEqual(hostile.errors, []);
      const pieces = seen.filter((m) => m.type === "piece");
      assert.equal(pieces.length, 1, "data was sent for a bad request");
      const piece = pieces[0]!;
      assert.ok(piece.type === "piece" && piece.index === GOOD.index && piece.begin === GOOD.begin);
      const offset = GOOD.index * PIECE_LENGTH + GOOD.begin;
      assert.ok(equals(piece.block, DATA.subarray(offset, offset + GOOD.length)));
      const rejects = seen.filter((m) => m.type === "reject");
      if (fast) {
        assert.deepEqual(
          rejects.map((m) =>
            m.type === "reject" && { index: m.index, begin: m.begin, length: m.length }
          ),
          BAD_REQUESTS,
        );
      } else assert.equal(rejects.length, 0);
    }));
}

Deno.test("request flood from a peer that never reads: seeder memory bounded, honest peer completes", () =>
  withSeeder(async (seeder, root) => {
    const FLOOD = 500_000;
    // All valid requests (cycling over every block), sent as fast as the socket takes them.
    const frames: Uint8Array[] = [encodeMessage({ type: "interested" })];
    for (let i = 0; i < FLOOD; i++) {
      const index = i % (META.pieceCount - 1);
      frames.push(encodeMessage({ type: "request", index, begin: (i % 2) * 16384, length: 16384 }));
    }
    const flood = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
    frames.reduce((at, f) => (flood.set(f, at), at + f.length), 0);
    const hostile = ScriptedPeer.dial(META, seeder.client.port, async (p) => {
      for (let at = 0; at < flood.length && !p.closed; at += 64 * 1024) {
        await p.sendRaw(flood.subarray(at, at + 64 * 1024));
      }
      await p.ended;
    }, { neverRead: true });
    const out = join(root, "out");
    const leecher = await startSession(out, { peers: [seeder.address] });
    try {
      const flooder = () =>
        [...seeder.session.peers.values()].find((p: Peer) =>
          new TextDecoder().decode(p.conn.remotePeerId) === "-XX0001-hostile-peer"
        );
      // Until the seeder has read the whole flood or dropped the flooder, watch what it holds.
      let peak = 0;
      let seen = false;
      await within(
        (async () => {
          for (;;) {
            const f = flooder();
            if (f) seen = true;
            peak = Math.max(peak, f?.conn.bufferedAmount ?? 0);
            // Under load the seeder may drop the flooder before the first look at it.
            const dropped = [...seeder.reasons().values()].flat().includes("request flood");
            if (dropped || (seen && (!f || f.conn.bytesIn >= flood.length))) return;
            await new Promise((r) => setTimeout(r, 5));
          }
        })(),
        "the seeder reading the flood",
      );
      await within(leecher.session.complete, "the honest download");
      assert.ok(await hasData(out));
      // 2 MiB backlog, then one more batch of messages at most.
      assert.ok(peak <= 2.5 * 1024 * 1024, `seeder held ${peak} bytes for a peer that never reads`);
      // Dropped for flooding, or kept with its backlog bounded: both are fine. The honest
      // leecher may already have hung up after finishing ("closed").
      const reasons = [...seeder.reasons().values()].flat();
      assert.ok(
        reasons.every((r) => r === "request flood" || r === "both seeds" || r === "closed"),
        `${reasons}`,
      );
    } finally {
      await leecher.close();
      await hostile.close();
    }
  }));

Deno.test("200 connections that never send a handshake do not keep an honest peer out", () =>
  withSeeder(async (seeder, root) => {
    const silent: Deno.TcpConn[] = [];
    try {
      for (let i = 0; i < 200; i++) {
        silent.push(await Deno.connect({ hostname: "127.0.0.1", port: seeder.client.port }));
      }
      const out = join(root, "out");
      const leecher = await startSession(out, { peers: [seeder.address] });
      try {
        await within(leecher.session.complete, "the honest download");
        assert.ok(await hasData(out));
      } finally {
        await leecher.close();
      }
    } finally {
      for (const c of silent) c.close();
    }
  }));
