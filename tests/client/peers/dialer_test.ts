import assert from "node:assert/strict";
import { PeerDialer } from "../../../src/client/peers/dialer.ts";
import { type PeerConnection, WireError } from "../../../src/wire/mod.ts";

type Connect = typeof import("../../../src/wire/mod.ts").PeerConnection.connect;

/** A dialer whose dials fail with `error(host:port)`, or succeed when it returns undefined. */
function dialer(error: (key: string) => Error | undefined, maxPeers = 50) {
  const dialled: string[] = [];
  const connected = new Set<string>();
  const abort = new AbortController();
  const connect: Connect = (o) => {
    const key = `${o.hostname}:${o.port}`;
    dialled.push(key);
    const e = error(key);
    if (e) return Promise.reject(e);
    return Promise.resolve({ hostname: o.hostname, port: o.port } as PeerConnection);
  };
  const d = new PeerDialer({
    infoHash: new Uint8Array(20),
    peerId: new Uint8Array(20),
    signal: abort.signal,
    maxPeers,
    connectedCount: () => connected.size,
    isConnected: (key) => connected.has(key),
    onConnection: (c) => connected.add(`${c.hostname}:${c.port}`),
    connect,
  });
  return { d, dialled, connected };
}

Deno.test("PeerDialer bans an address that turned out to be ourselves", async () => {
  const { d, dialled } = dialer((key) =>
    key === "10.0.0.1:6881" ? new WireError("connected to ourselves", key) : new Error("refused")
  );
  d.add([{ hostname: "10.0.0.1", port: 6881 }, { hostname: "10.0.0.2", port: 6881 }]);
  d.dialMore(0);
  await d.idle();
  assert.deepEqual(dialled.sort(), ["10.0.0.1:6881", "10.0.0.2:6881"]);
  assert.ok(d.isBanned("10.0.0.1:6881"));
  assert.ok(!d.isBanned("10.0.0.2:6881"));
  // Long after any backoff: only the merely dead address is tried again.
  const later = performance.now() + 3_600_000;
  assert.ok(d.hasCandidates(later));
  d.dialMore(later);
  await d.idle();
  assert.deepEqual(dialled.slice(2), ["10.0.0.2:6881"]);
});

Deno.test("PeerDialer respects the peer cap, skips bad ports and connected peers", async () => {
  const { d, dialled, connected } = dialer(() => undefined, 2);
  d.add([
    { hostname: "10.0.0.1", port: 1 },
    { hostname: "10.0.0.2", port: 0 },
    { hostname: "10.0.0.3", port: 70000 },
    { hostname: "10.0.0.4", port: 4 },
    { hostname: "10.0.0.5", port: 5 },
  ]);
  d.dialMore(0);
  await d.idle();
  assert.deepEqual([...connected].sort(), ["10.0.0.1:1", "10.0.0.4:4"]);
  d.dialMore(0);
  await d.idle();
  assert.equal(dialled.length, 2, "a full dialer dials nobody");
  connected.delete("10.0.0.1:1");
  d.dialMore(0);
  await d.idle();
  // The peer that just left waits before a redial; the new slot goes to the untried address.
  assert.deepEqual(dialled, ["10.0.0.1:1", "10.0.0.4:4", "10.0.0.5:5"]);
});
