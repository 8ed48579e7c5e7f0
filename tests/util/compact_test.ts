import assert from "node:assert/strict";
import {
  encodeCompactNodes,
  parseCompactNodes,
  parseCompactPeers,
  writeCompactPeer,
} from "../../src/util/compact.ts";
import { fromHex } from "../../src/util/bytes.ts";

Deno.test("compact peers (BEP 23, BEP 7): port 0 skipped, a truncated record ignored", () => {
  // 10.0.0.1:6881, 127.0.0.1:0 (skipped), then 3 stray bytes.
  const v4 = fromHex("0a0000011ae1" + "7f0000010000" + "010203")!;
  assert.deepEqual(parseCompactPeers(v4, 6), [{ hostname: "10.0.0.1", port: 6881 }]);
  const v6 = fromHex("20010db8000000000000000000000001" + "c8d5")!;
  assert.deepEqual(parseCompactPeers(v6, 18), [{ hostname: "2001:db8::1", port: 51413 }]);
  const out = new Uint8Array(6);
  assert.equal(writeCompactPeer(out, 0, new Uint8Array([10, 0, 0, 1]), 6881), 6);
  assert.deepEqual(out, v4.subarray(0, 6));
});

Deno.test("compact nodes (BEP 5): 26-byte IPv4 and 38-byte IPv6 records round-trip", () => {
  const id = new Uint8Array(20).fill(0xab);
  const ip4 = new Uint8Array([192, 0, 2, 1]);
  const bytes = encodeCompactNodes([{ id, ip: ip4, port: 6881 }, { id, ip: ip4, port: 1 }]);
  assert.equal(bytes.length, 52);
  const nodes = parseCompactNodes(bytes, 4);
  assert.deepEqual(nodes.map((n) => n.address), [
    { hostname: "192.0.2.1", port: 6881 },
    { hostname: "192.0.2.1", port: 1 },
  ]);
  assert.deepEqual(nodes[0]!.id, id);
  const ip6 = fromHex("20010db8000000000000000000000001")!;
  const six = encodeCompactNodes([{ id, ip: ip6, port: 443 }]);
  assert.equal(six.length, 38);
  assert.deepEqual(parseCompactNodes(six, 6)[0]!.address, { hostname: "2001:db8::1", port: 443 });
  assert.throws(() => encodeCompactNodes([{ id, ip: ip4, port: 1 }, { id, ip: ip6, port: 1 }]));
});
