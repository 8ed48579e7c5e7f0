import assert from "node:assert/strict";
import {
  decodeExtendedHandshake,
  encodeExtendedHandshake,
  ExtensionRegistry,
  PeerExtensions,
} from "../../../src/wire/mod.ts";

Deno.test("ExtensionRegistry: ids from 1 in order, names back from ids, into our handshake", () => {
  const ours = new ExtensionRegistry(["ut_metadata", "ut_pex"]);
  assert.deepEqual([...ours.handshakeMap], [["ut_metadata", 1], ["ut_pex", 2]]);
  assert.equal(ours.nameOf(1), "ut_metadata");
  assert.equal(ours.nameOf(2), "ut_pex");
  assert.equal(ours.nameOf(0), undefined);
  assert.equal(ours.nameOf(3), undefined);
  const sent = decodeExtendedHandshake(encodeExtendedHandshake({ m: ours.handshakeMap }));
  assert.deepEqual([...sent.m], [["ut_metadata", 1], ["ut_pex", 2]]);
  assert.deepEqual([...new ExtensionRegistry().handshakeMap], []);
  assert.throws(() => new ExtensionRegistry(["a", "a"]), RangeError);
});

Deno.test("PeerExtensions: a later handshake changes ids and id 0 disables (BEP 10)", () => {
  const peer = new PeerExtensions();
  // libtorrent's ids, as seen in its handshakes.
  peer.update(decodeExtendedHandshake(
    encodeExtendedHandshake({ m: { ut_metadata: 2, ut_pex: 1, upload_only: 3 } }),
  ));
  assert.equal(peer.idOf("ut_metadata"), 2);
  assert.equal(peer.idOf("lt_donthave"), undefined);
  peer.update(
    decodeExtendedHandshake(encodeExtendedHandshake({ m: { ut_pex: 0, ut_metadata: 4 } })),
  );
  assert.equal(peer.has("ut_pex"), false);
  assert.equal(peer.idOf("ut_metadata"), 4);
  assert.equal(peer.idOf("upload_only"), 3);
});
