import assert from "node:assert/strict";
import denoJson from "../../../deno.json" with { type: "json" };
import {
  describePeerId,
  generateKey,
  generatePeerId,
  PEER_ID_PREFIX,
  versionDigits,
} from "../../../src/client/peers/peer_id.ts";

Deno.test("peer ids are -BX<version>- plus 12 random bytes", () => {
  const a = generatePeerId();
  const b = generatePeerId();
  assert.equal(a.length, 20);
  assert.equal(PEER_ID_PREFIX, `-BX${versionDigits(denoJson.version)}-`);
  assert.equal(String.fromCharCode(...a.subarray(0, 8)), PEER_ID_PREFIX);
  assert.notDeepEqual(a.subarray(8), b.subarray(8));
  assert.equal(describePeerId(a), `btx ${denoJson.version.split(/[+-]/)[0]}`);
});

Deno.test("version digits are one base-36 character per component", () => {
  assert.equal(versionDigits("0.1.0"), "0100");
  assert.equal(versionDigits("1.12.3"), "1C30");
  assert.equal(versionDigits("2.0.0-beta.1"), "2000");
  assert.equal(versionDigits("weird"), "0000");
});

Deno.test("describePeerId reads Azureus-style ids and rejects others", () => {
  const id = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
  assert.equal(describePeerId(id("-qB4250-abcdefghijkl")), "qB 4.2.5");
  assert.equal(describePeerId(id("M7-2-0--abcdefghijkl")), undefined);
  assert.equal(describePeerId(new Uint8Array(20)), undefined);
});

Deno.test("keys are 8 hex digits and differ", () => {
  const keys = new Set(Array.from({ length: 20 }, generateKey));
  assert.ok([...keys].every((k) => /^[0-9a-f]{8}$/.test(k)));
  assert.ok(keys.size > 1);
});
