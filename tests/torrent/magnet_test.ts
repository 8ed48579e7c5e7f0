import assert from "node:assert/strict";
import { formatMagnet, MagnetError, parseMagnet } from "../../src/torrent/mod.ts";
import { base32Decode, base32Encode } from "../../src/torrent/magnet.ts";
import { fromHex } from "../../src/util/bytes.ts";

const HEX = "dd8255ecdc7ca55fb0bbf81323d87062db1f6d1c";

Deno.test("parses hex xt, dn with escapes and +, repeated tr and x.pe", () => {
  const m = parseMagnet(
    `magnet:?xt=urn:btih:${HEX.toUpperCase()}&dn=Big+Buck%20Bunny%C3%A9` +
      "&tr=udp%3A%2F%2Fexplodie.org%3A6969&tr=wss%3A%2F%2Ftracker.test&tr.1=http%3A%2F%2Fx%2Fa" +
      "&tr=udp%3A%2F%2Fexplodie.org%3A6969&x.pe=10.0.0.1:6881&x.pe=[::1]:51413&ws=http%3A%2F%2Fw",
  );
  assert.equal(m.infoHashHex, HEX);
  assert.deepEqual(m.infoHash, fromHex(HEX));
  assert.equal(m.name, "Big Buck Bunnyé");
  assert.deepEqual(m.trackers, ["udp://explodie.org:6969", "wss://tracker.test", "http://x/a"]);
  assert.deepEqual(m.peers, ["10.0.0.1:6881", "[::1]:51413"]);
});

Deno.test("base32 btih (RFC 4648) decodes to the same hash as hex", () => {
  const bytes = fromHex(HEX)!;
  const b32 = base32Encode(bytes);
  assert.equal(b32.length, 32);
  assert.match(b32, /^[A-Z2-7]{32}$/);
  assert.deepEqual(base32Decode(b32), bytes);
  assert.equal(parseMagnet(`magnet:?xt=urn:btih:${b32}`).infoHashHex, HEX);
  assert.equal(parseMagnet(`magnet:?xt=urn:btih:${b32.toLowerCase()}`).infoHashHex, HEX);
  // RFC 4648 test vector: "foobar" -> MZXW6YTBOI
  assert.equal(base32Encode(new TextEncoder().encode("foobar")), "MZXW6YTBOI");
  assert.equal(new TextDecoder().decode(base32Decode("MZXW6YTBOI")), "foobar");
});

Deno.test("format then parse round-trips name and trackers with awkward characters", () => {
  const input = {
    infoHashHex: HEX,
    name: "a&b=c d+é/%",
    trackers: ["http://t.test/a?x=1&y=2", "udp://u:1"],
  };
  const uri = formatMagnet(input);
  assert.match(uri, new RegExp(`^magnet:\\?xt=urn:btih:${HEX}&dn=`));
  const back = parseMagnet(uri);
  assert.equal(back.infoHashHex, HEX);
  assert.equal(back.name, input.name);
  assert.deepEqual(back.trackers, input.trackers);
  assert.deepEqual(back.peers, []);
  assert.equal(parseMagnet(formatMagnet({ infoHashHex: HEX })).name, undefined);
});

Deno.test("bad magnets raise MagnetError (exit code 2) saying what is wrong", () => {
  const cases: [string, RegExp][] = [
    ["http://example.test/?xt=urn:btih:" + HEX, /must start with/],
    ["magnet:?dn=x", /no "xt=urn:btih:"/],
    ["magnet:?xt=urn:btih:1234", /40 hex or 32 base32/],
    [`magnet:?xt=urn:btih:${"g".repeat(40)}`, /not hex/],
    [`magnet:?xt=urn:btih:${"1".repeat(32)}`, /base32/],
    [`magnet:?xt=urn:btih:${HEX}&dn=%E0%A4%A`, /"dn" has a bad percent-escape/],
    [`magnet:?xt=urn:btih:${HEX}&tr`, /"tr" has no value/],
  ];
  for (const [uri, reason] of cases) {
    assert.throws(() => parseMagnet(uri), (e: unknown) => {
      assert.ok(e instanceof MagnetError, `${uri}: got ${e}`);
      assert.equal(e.exitCode, 2);
      assert.match(e.message, reason, uri);
      return true;
    });
  }
  assert.throws(() => formatMagnet({ infoHashHex: "xyz" }), MagnetError);
});
