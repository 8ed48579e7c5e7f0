import assert from "node:assert/strict";
import { decodeHandshake, encodeHandshake, HANDSHAKE_LENGTH } from "../../../src/wire/mod.ts";
import { MemorySwarmStore, PeerHealthChecker } from "../../../src/tracker/server/mod.ts";
import { toBinary } from "../../../src/util/bytes.ts";
import { HASH_A, HASH_B, peerId } from "./helpers.ts";

/** A listener that answers handshakes for HASH_A only, until closed. */
function handshakeServer() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Promise<void>[] = [];
  const accepting = (async () => {
    for await (const conn of listener) {
      conns.push((async () => {
        try {
          const buf = new Uint8Array(HANDSHAKE_LENGTH);
          let got = 0;
          while (got < buf.length) {
            const n = await conn.read(buf.subarray(got));
            if (n === null) return;
            got += n;
          }
          const hs = decodeHandshake(buf);
          if (toBinary(hs.infoHash) === toBinary(HASH_A)) {
            await conn.write(
              encodeHandshake({ infoHash: hs.infoHash, peerId: new Uint8Array(20) }),
            );
          }
        } catch {
          // The checker hung up.
        } finally {
          conn.close();
        }
      })());
    }
  })();
  return {
    port: listener.addr.port,
    async close() {
      listener.close();
      await accepting.catch(() => {});
      await Promise.all(conns);
    },
  };
}

/** A port nobody listens on. */
function closedPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = l.addr.port;
  l.close();
  return port;
}

function add(
  store: MemorySwarmStore,
  hash: Uint8Array,
  tag: string,
  port: number,
  checkable = true,
) {
  return store.announce({
    infoHash: toBinary(hash),
    peerId: peerId(tag),
    ip: Uint8Array.of(127, 0, 0, 1),
    port,
    left: 1,
    uploaded: 0,
    downloaded: 0,
    event: "started",
    numwant: 50,
    checkable,
  }, 0);
}

Deno.test("health checks: peers that fail handshakes 3 times stop being handed out", async () => {
  const server = handshakeServer();
  try {
    const store = new MemorySwarmStore({ maxFailures: 3 });
    const dead = closedPort();
    add(store, HASH_A, "alive", server.port);
    add(store, HASH_A, "dead", dead);
    add(store, HASH_A, "claimed", dead, false); // from an ip= parameter: never dialled
    add(store, HASH_B, "wronghash", server.port); // answers nothing for HASH_B
    const checker = new PeerHealthChecker(store, { concurrency: 2, timeoutMs: 2000 });
    for (let round = 0; round < 3; round++) {
      assert.deepEqual(await checker.runOnce(), { checked: 3, failed: 2 });
    }
    await checker.stop();
    const seen = add(store, HASH_A, "asker", 9);
    const ports: number[] = [];
    seen.peers.forEach((p) => ports.push((p.key.charCodeAt(24) << 8) | p.key.charCodeAt(25)));
    assert.deepEqual(ports.sort(), [server.port, dead].sort()); // "claimed" only, dead set aside
    assert.equal(seen.peers.count4, 2);
    assert.equal(store.scrape(toBinary(HASH_B))?.incomplete, 0);
  } finally {
    await server.close();
  }
});
