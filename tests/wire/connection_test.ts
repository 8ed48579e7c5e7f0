import assert from "node:assert/strict";
import { equals, utf8Bytes } from "../../src/util/bytes.ts";
import {
  decodeHandshake,
  encodeHandshake,
  HANDSHAKE_LENGTH,
  type Message,
  PeerConnection,
  type PeerConnectionOptions,
  readHandshakeStart,
  type WireConn,
  WireError,
} from "../../src/wire/mod.ts";

const INFO_HASH = new Uint8Array(20).fill(0xab);
const OTHER_HASH = new Uint8Array(20).fill(0xcd);
const ID_A = utf8Bytes("-BX0001-aaaaaaaaaaaa");
const ID_B = utf8Bytes("-BX0001-bbbbbbbbbbbb");

/** A conn whose writes are counted, to observe coalescing. */
function countWrites(conn: Deno.Conn): { conn: WireConn; writes: () => number } {
  let writes = 0;
  return {
    conn: {
      read: (p) => conn.read(p),
      write: (p) => {
        writes++;
        return conn.write(p);
      },
      close: () => conn.close(),
      remoteAddr: conn.remoteAddr,
    },
    writes: () => writes,
  };
}

/** A connected pair over loopback: `a` dialled, `b` accepted (through `wrap`). */
async function connectedPair(
  options: { a?: PeerConnectionOptions; b?: PeerConnectionOptions } = {},
  wrap: (c: Deno.Conn) => WireConn = (c) => c,
) {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept().then((conn) =>
    PeerConnection.accept(wrap(conn), {
      peerId: ID_B,
      lookup: (h) => equals(h, INFO_HASH),
      fast: true,
      ...options.b,
    })
  );
  const a = await PeerConnection.connect({
    hostname: "127.0.0.1",
    port: listener.addr.port,
    infoHash: INFO_HASH,
    peerId: ID_A,
    extended: true,
    ...options.a,
  });
  return { a, b: await accepted };
}

/** Runs `conn` and collects messages; `until` resolves once `count` have arrived. */
function collect(conn: PeerConnection, count: number) {
  const messages: Message[] = [];
  let reached!: () => void;
  const until = new Promise<void>((resolve) => (reached = resolve));
  if (count === 0) reached();
  const done = conn.run((m) => {
    messages.push(m);
    if (messages.length === count) reached();
  });
  return { messages, until, done };
}

Deno.test("PeerConnection: handshake sets identities and extension bits on both ends", async () => {
  const { a, b } = await connectedPair();
  assert.deepEqual(a.remotePeerId, ID_B);
  assert.deepEqual(b.remotePeerId, ID_A);
  assert.deepEqual(b.infoHash, INFO_HASH);
  assert.equal(a.remoteFast, true);
  assert.equal(a.remoteExtended, false);
  assert.equal(b.remoteExtended, true);
  assert.equal(b.remoteFast, false);
  assert.equal(a.hostname, "127.0.0.1");
  assert.equal(b.hostname, "127.0.0.1");
  assert.notEqual(b.port, 0);
  a.close();
  b.close();
  a.close(); // idempotent
  assert.equal(a.closed, true);
});

Deno.test("PeerConnection: messages flow both ways in order", async () => {
  const { a, b } = await connectedPair();
  const block = Uint8Array.from({ length: 16384 }, (_, i) => (i * 7) & 0xff);
  const fromA: Message[] = [
    { type: "interested" },
    { type: "request", index: 3, begin: 16384, length: 16384 },
    { type: "extended", id: 0, payload: utf8Bytes("de") },
  ];
  const fromB: Message[] = [
    { type: "haveAll" },
    { type: "unchoke" },
    { type: "piece", index: 3, begin: 16384, block },
  ];
  const atB = collect(b, fromA.length);
  const atA = collect(a, fromB.length);
  for (const m of fromA) a.send(m);
  b.send(fromB[0]!);
  b.send(fromB[1]!);
  b.sendPiece(3, 16384, block);
  await Promise.all([atA.until, atB.until]);
  assert.deepEqual(atB.messages, fromA);
  assert.deepEqual(atA.messages, fromB);
  await b.drain();
  assert.equal(a.pieceBytesIn, 16384);
  assert.equal(b.pieceBytesOut, 16384);
  assert.equal(b.bytesOut, 5 + 5 + 13 + 16384);
  assert.equal(a.bytesIn, b.bytesOut);
  a.close();
  b.close();
  await Promise.all([atA.done, atB.done]);
  assert.equal(a.closeError, undefined);
});

Deno.test("PeerConnection: many sends in one tick are coalesced into few writes", async () => {
  let writes = () => 0;
  const { a, b } = await connectedPair({}, (conn) => {
    const counted = countWrites(conn);
    writes = counted.writes;
    return counted.conn;
  });
  const handshakeWrites = writes();
  const atA = collect(a, 200);
  for (let i = 0; i < 200; i++) b.send({ type: "have", index: i });
  await b.drain();
  await atA.until;
  assert.deepEqual(
    atA.messages,
    Array.from({ length: 200 }, (_, i) => ({ type: "have", index: i })),
  );
  // 200 messages (1800 bytes) fit one write; a second only if the OS took part of it.
  assert.ok(writes() - handshakeWrites <= 2, `${writes() - handshakeWrites} writes`);
  a.close();
  b.close();
  await atA.done;
});

Deno.test("PeerConnection: blocks queued one per promise callback still share writes", async () => {
  let writes = () => 0;
  const { a, b } = await connectedPair({}, (conn) => {
    const counted = countWrites(conn);
    writes = counted.writes;
    return counted.conn;
  });
  const handshakeWrites = writes();
  const BLOCKS = 64; // 1 MiB of 16 KiB blocks
  const atA = collect(a, BLOCKS);
  const block = new Uint8Array(16384).fill(7);
  // As an uploader does: each block after an await of a read that needs no I/O.
  for (let i = 0; i < BLOCKS; i++) {
    await Promise.resolve(block);
    b.sendPiece(i, 0, block);
  }
  await b.drain();
  await atA.until;
  assert.equal(atA.messages.length, BLOCKS);
  assert.ok(atA.messages.every((m, i) => m.type === "piece" && m.index === i));
  // 128 KiB batches: about 8 writes for 1 MiB, not one per block.
  const used = writes() - handshakeWrites;
  assert.ok(used <= 16, `${used} writes for ${BLOCKS} blocks`);
  a.close();
  b.close();
  await atA.done;
});

Deno.test("PeerConnection: a megabyte of blocks with drain() backpressure arrives intact", async () => {
  const { a, b } = await connectedPair();
  const blocks = Array.from({ length: 64 }, (_, n) => new Uint8Array(16384).fill(n));
  const atA = collect(a, blocks.length);
  for (const [n, block] of blocks.entries()) {
    b.sendPiece(n, 0, block);
    if (b.bufferedAmount > 64 * 1024) await b.drain(32 * 1024);
  }
  await atA.until;
  for (const [n, m] of atA.messages.entries()) {
    assert.equal(m.type, "piece");
    if (m.type === "piece") {
      assert.equal(m.index, n);
      assert.deepEqual(m.block, blocks[n]);
    }
  }
  assert.equal(a.pieceBytesIn, 64 * 16384);
  a.close();
  b.close();
  await atA.done;
});

Deno.test("PeerConnection: sendPiece copies the block, so its buffer can be reused at once", async () => {
  const { a, b } = await connectedPair();
  const reused = new Uint8Array(16384);
  const sent: Uint8Array[] = [];
  const at = collect(a, 40);
  for (let n = 0; n < 40; n++) {
    reused.fill(n + 1);
    sent.push(reused.slice());
    b.sendPiece(n, 0, reused);
  }
  reused.fill(0xee);
  await at.until;
  assert.deepEqual(
    at.messages.map((m) => m.type === "piece" ? m.block : undefined),
    sent,
  );
  a.close();
  b.close();
  await at.done;
});

Deno.test("PeerConnection: an unknown info hash is refused on both sides", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept().then((conn) =>
    PeerConnection.accept(conn, { peerId: ID_B, lookup: (h) => equals(h, OTHER_HASH) })
  );
  const dialled = PeerConnection.connect({
    hostname: "127.0.0.1",
    port: listener.addr.port,
    infoHash: INFO_HASH,
    peerId: ID_A,
  });
  await assert.rejects(accepted, /info hash we do not serve/);
  await assert.rejects(dialled, WireError);
});

Deno.test("PeerConnection.connect refuses a peer answering with another info hash", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const server = (async () => {
    const conn = await listener.accept();
    const theirs = new Uint8Array(HANDSHAKE_LENGTH);
    for (let got = 0; got < theirs.length;) got += (await conn.read(theirs.subarray(got))) ?? 0;
    assert.deepEqual(decodeHandshake(theirs).infoHash, INFO_HASH);
    await conn.write(encodeHandshake({ infoHash: OTHER_HASH, peerId: ID_B }));
    // Wait for the dialler to hang up.
    await conn.read(new Uint8Array(1)).catch(() => null);
    conn.close();
  })();
  await assert.rejects(
    PeerConnection.connect({
      hostname: "127.0.0.1",
      port: listener.addr.port,
      infoHash: INFO_HASH,
      peerId: ID_A,
    }),
    /different info hash/,
  );
  await server;
});

Deno.test("PeerConnection.connect times out on a silent peer", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const server = listener.accept().then(async (conn) => {
    await conn.read(new Uint8Array(100)).catch(() => null);
    // Stays silent until the dialler gives up and closes.
    while ((await conn.read(new Uint8Array(100)).catch(() => null)) !== null);
    conn.close();
  });
  await assert.rejects(
    PeerConnection.connect({
      hostname: "127.0.0.1",
      port: listener.addr.port,
      infoHash: INFO_HASH,
      peerId: ID_A,
      timeoutMs: 100,
    }),
    /timed out after 100 ms/,
  );
  await server;
});

Deno.test("readHandshakeStart lets a listener route by info hash before answering", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const served = listener.accept().then(async (conn) => {
    const start = await readHandshakeStart(conn);
    assert.ok(equals(start.infoHash, INFO_HASH));
    assert.equal(start.extended, true);
    return PeerConnection.answer(conn, start, { peerId: ID_B });
  });
  const a = await PeerConnection.connect({
    hostname: "127.0.0.1",
    port: listener.addr.port,
    infoHash: INFO_HASH,
    peerId: ID_A,
    extended: true,
  });
  const b = await served;
  assert.deepEqual(b.remotePeerId, ID_A);
  a.close();
  b.close();
});

Deno.test("PeerConnection: a peer silent past the idle timeout is closed", async () => {
  const { a, b } = await connectedPair({ b: { idleTimeoutMs: 100 } });
  const atA = collect(a, 0);
  await b.run(() => {});
  assert.equal(b.closed, true);
  assert.ok(b.closeError instanceof WireError);
  assert.match(b.closeError.message, /no data for 100 ms/);
  await atA.done; // b's close ends a's run with EOF
  assert.equal(a.closed, true);
});

Deno.test("PeerConnection: keep-alives are sent when there is nothing else to send", async () => {
  const { a, b } = await connectedPair({ a: { keepAliveMs: 50 } });
  const atB = collect(b, 2);
  const atA = collect(a, 0);
  await atB.until;
  assert.deepEqual(atB.messages, [{ type: "keepalive" }, { type: "keepalive" }]);
  a.close();
  b.close();
  await Promise.all([atA.done, atB.done]);
});

Deno.test("PeerConnection: a protocol violation ends run() with closeError", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept().then((conn) =>
    PeerConnection.accept(conn, { peerId: ID_B, lookup: () => true, maxFrame: 1000 })
  );
  const raw = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  await raw.write(encodeHandshake({ infoHash: INFO_HASH, peerId: ID_A }));
  const b = await accepted;
  const received: Message[] = [];
  const done = b.run((m) => received.push(m));
  // An unchoke, then a frame announcing 1 MB against a 1000-byte limit.
  await raw.write(Uint8Array.of(0, 0, 0, 1, 1, 0, 0x10, 0, 0));
  await done;
  assert.deepEqual(received, [{ type: "unchoke" }]);
  assert.match(String(b.closeError), /exceeds the 1000 limit/);
  raw.close();
});

Deno.test("PeerConnection: an exception in onMessage closes the connection, run() resolves", async () => {
  const { a, b } = await connectedPair();
  const atA = collect(a, 0);
  const done = b.run(() => {
    throw new Error("handler bug");
  });
  a.send({ type: "choke" });
  await done;
  assert.equal(b.closeError?.message, "handler bug");
  assert.equal(b.send({ type: "choke" }), false, "sends after close are dropped");
  await atA.done;
});

Deno.test("PeerConnection.connect refuses to talk to itself", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept().then((conn) =>
    PeerConnection.accept(conn, { peerId: ID_A, lookup: () => true })
  );
  const dialled = PeerConnection.connect({
    hostname: "127.0.0.1",
    port: listener.addr.port,
    infoHash: INFO_HASH,
    peerId: ID_A,
  });
  await assert.rejects(accepted, /connected to ourselves/);
  await assert.rejects(dialled, /connected to ourselves|closed during the handshake/);
});

Deno.test("PeerConnection: lastReadAt is the time of the read that delivered a message", async () => {
  const { a, b } = await connectedPair();
  const stamps: number[] = [];
  let got!: () => void;
  const arrived = new Promise<void>((resolve) => (got = resolve));
  const done = a.run(() => {
    stamps.push(a.lastReadAt);
    if (stamps.length === 2) got();
  });
  const before = performance.now();
  // Sent in one tick, so they share one write and, on loopback, one read.
  b.send({ type: "unchoke" });
  b.send({ type: "have", index: 1 });
  await arrived;
  const after = performance.now();
  assert.equal(stamps[0], stamps[1]);
  assert.ok(stamps[0]! >= before && stamps[0]! <= after, `${before} <= ${stamps[0]} <= ${after}`);
  a.close();
  b.close();
  await done;
});
