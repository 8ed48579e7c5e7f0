// The session's side of the peer protocol, seen from a hand-driven peer on 127.0.0.1.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Bitfield } from "../../../src/torrent/bitfield.ts";
import { Client } from "../../../src/client/client.ts";
import {
  CheckStoppedError,
  type SessionEvent,
  TorrentSession,
} from "../../../src/client/session/session.ts";
import { buildAnnounceUrl } from "../../../src/tracker/client/http.ts";
import { createTorrent, type Metainfo } from "../../../src/torrent/mod.ts";
import {
  decodeExtendedHandshake,
  EXTENDED_HANDSHAKE_ID,
  type Message,
  PeerConnection,
} from "../../../src/wire/mod.ts";
import { writeTree } from "../../helpers/data.ts";

const LOOPBACK = "127.0.0.1";
const WAIT_MS = 30_000;

/** The message shape(s) with `type` T (request, cancel and reject share one shape). */
type MessageOf<T extends Message["type"]> = Message extends infer M
  ? M extends { type: infer U } ? T extends U ? M & { type: T } : never : never
  : never;

/** A peer driven by the test: sends what it is told, and hands over what it receives in order. */
class ProbePeer {
  readonly #queue: Message[] = [];
  #wake: (() => void) | undefined;
  readonly done: Promise<void>;

  constructor(readonly conn: PeerConnection) {
    this.done = conn.run((m) => {
      this.#queue.push(m);
      this.#wake?.();
    });
  }

  static async dial(meta: Metainfo, port: number): Promise<ProbePeer> {
    const conn = await PeerConnection.connect({
      hostname: LOOPBACK,
      port,
      infoHash: meta.infoHash,
      peerId: new TextEncoder().encode("-PR0001-probe-peer-1"),
      extended: true,
      fast: true,
      timeoutMs: WAIT_MS,
    });
    return new ProbePeer(conn);
  }

  /** The next message of `type` (skipping others); fails after WAIT_MS or at the end. */
  async next<T extends Message["type"]>(type: T): Promise<MessageOf<T>> {
    const deadline = performance.now() + WAIT_MS;
    for (;;) {
      const i = this.#queue.findIndex((m) => m.type === type);
      if (i >= 0) return this.#queue.splice(i, 1)[0] as MessageOf<T>;
      if (this.conn.closed) throw new Error(`connection ended before a ${type} message`);
      if (performance.now() > deadline) throw new Error(`no ${type} message in time`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        new Promise<void>((r) => (this.#wake = r)),
        this.done,
        new Promise<void>((r) => (timer = setTimeout(r, 100))),
      ]);
      clearTimeout(timer);
    }
  }

  /** Messages of `type` received and not taken yet. */
  pending(type: Message["type"]): number {
    return this.#queue.filter((m) => m.type === type).length;
  }

  /** Round trip: everything the session sent in reply to our earlier messages is here after it. */
  async barrier(): Promise<void> {
    // A request for a piece the session lacks is rejected (BEP 6), in order with the rest.
    this.conn.send({ type: "request", index: 0, begin: 0, length: 1 });
    for (;;) {
      const r = await this.next("reject");
      if (r.index === 0 && r.length === 1) return;
    }
  }

  async close() {
    this.conn.close();
    await this.done;
  }
}

async function leecher(root: string, onEvent?: (e: SessionEvent) => void) {
  await writeTree(join(root, "src"), { "data.bin": 5 * 16 * 1024 + 100 });
  const { metainfo: meta } = await createTorrent(join(root, "src", "data.bin"), {
    pieceLength: 16 * 1024,
  });
  const client = Client.start({ port: 0, hostname: LOOPBACK });
  const session = await TorrentSession.start(client, meta, {
    dir: join(root, "out"),
    trackers: [],
    ...(onEvent ? { onEvent } : {}),
  });
  return { meta, client, session };
}

Deno.test("a bitfield after have messages adds to what the peer announced", async () => {
  const root = await Deno.makeTempDir();
  const { meta, client, session } = await leecher(root);
  const probe = await ProbePeer.dial(meta, client.port);
  try {
    probe.conn.send({ type: "have", index: 0 });
    const late = new Bitfield(meta.pieceCount);
    late.set(1);
    probe.conn.send({ type: "bitfield", bitfield: late.toBytes() });
    // A request for a piece the session lacks is rejected (BEP 6), and only after everything
    // sent before it was handled: a barrier.
    probe.conn.send({ type: "request", index: 2, begin: 0, length: 16 * 1024 });
    await probe.next("reject");
    const peer = [...session.peers.values()][0];
    assert.ok(peer);
    assert.deepEqual([...peer.has.indexes()], [0, 1]);
    assert.equal(session.picker.availability(0), 1);
    assert.equal(session.picker.availability(1), 1);
    assert.equal(session.picker.availability(2), 0);
    session.picker.checkInvariants();
    await probe.next("interested");
  } finally {
    await probe.close();
    await session.stop();
    await client.close();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("the extension handshake carries v, reqq, p and yourip (BEP 10)", async () => {
  const root = await Deno.makeTempDir();
  const { meta, client, session } = await leecher(root);
  const probe = await ProbePeer.dial(meta, client.port);
  try {
    const m = await probe.next("extended");
    assert.equal(m.id, EXTENDED_HANDSHAKE_ID);
    const h = decodeExtendedHandshake(m.payload);
    assert.match(h.v ?? "", /^btx /);
    assert.equal(h.reqq, 2000);
    assert.equal(h.p, client.port);
    assert.deepEqual(h.yourip, Uint8Array.from([127, 0, 0, 1]));
    // Nothing verified yet: BEP 6 `have none` rather than an empty bitfield.
    await probe.next("haveNone");
  } finally {
    await probe.close();
    await session.stop();
    await client.close();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("announces carry BEP 3 ip when set, percent-encoded", async () => {
  const params = {
    infoHash: new Uint8Array(20),
    peerId: new Uint8Array(20),
    port: 6881,
    uploaded: 0,
    downloaded: 0,
    left: 1,
  };
  assert.ok(!buildAnnounceUrl("http://t/announce", params).includes("ip="));
  const url = buildAnnounceUrl("http://t/announce", { ...params, ip: "2001:db8::1" });
  assert.ok(url.endsWith("&ip=2001%3Adb8%3A%3A1"), url);
  // The listen address is what a Client advertises; wildcards advertise nothing.
  const any = Client.start({ port: 0 });
  const one = Client.start({ port: 0, hostname: LOOPBACK });
  try {
    assert.equal(any.listenAddress, undefined);
    assert.equal(one.listenAddress, LOOPBACK);
  } finally {
    await any.close();
    await one.close();
  }
});

Deno.test("a stop request while checking data ends start with exit code 130", async () => {
  const root = await Deno.makeTempDir();
  const client = Client.start({ port: 0, hostname: LOOPBACK });
  try {
    await writeTree(join(root, "src"), { "data.bin": 40 * 16 * 1024 });
    const { metainfo: meta } = await createTorrent(join(root, "src", "data.bin"), {
      pieceLength: 16 * 1024,
    });
    const stop = new AbortController();
    let checked = 0;
    const started = TorrentSession.start(client, meta, {
      dir: join(root, "src"),
      trackers: [],
      signal: stop.signal,
      onEvent: (e) => {
        if (e.type === "checking" && ++checked === 3) stop.abort();
      },
    });
    await assert.rejects(started, (e) => e instanceof CheckStoppedError && e.exitCode === 130);
    assert.equal(checked, 3, "checking went on after the stop request");
  } finally {
    await client.close();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("while choked, only allowed-fast pieces are requested; a rejected one is not asked again", async () => {
  const root = await Deno.makeTempDir();
  const { meta, client, session } = await leecher(root);
  const probe = await ProbePeer.dial(meta, client.port);
  try {
    const data = await Deno.readFile(join(root, "src", "data.bin"));
    probe.conn.send({ type: "haveAll" });
    await probe.next("interested");
    await probe.barrier();
    assert.equal(probe.pending("request"), 0, "requests while choked without allowed-fast");

    probe.conn.send({ type: "allowedFast", index: 2 });
    const first = await probe.next("request");
    assert.equal(first.index, 2);
    probe.conn.send({
      type: "reject",
      index: first.index,
      begin: first.begin,
      length: first.length,
    });
    await probe.barrier();
    assert.equal(probe.pending("request"), 0, "piece 2 was asked for again after a reject");
    const peer = [...session.peers.values()][0]!;
    assert.deepEqual([...peer.allowedFast], [], "a rejected allowed-fast piece stays allowed");

    probe.conn.send({ type: "allowedFast", index: 3 });
    const r = await probe.next("request");
    assert.equal(r.index, 3);
    const at = r.index * meta.pieceLength + r.begin;
    probe.conn.send({
      type: "piece",
      index: r.index,
      begin: r.begin,
      block: data.subarray(at, at + r.length),
    });
    // No `have` comes back (the probe has every piece): wait for the verified write instead.
    const deadline = performance.now() + WAIT_MS;
    while (!session.picker.have.has(3) && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.deepEqual([...session.picker.have.indexes()], [3]);
    session.picker.checkInvariants();
  } finally {
    await probe.close();
    await session.stop();
    await client.close();
    await Deno.remove(root, { recursive: true });
  }
});
