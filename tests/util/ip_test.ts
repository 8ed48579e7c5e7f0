import assert from "node:assert/strict";
import { formatIp, parseIp, unmapIPv4 } from "../../src/util/ip.ts";

const v6 = (...groups: number[]) => {
  const b = new Uint8Array(16);
  groups.forEach((g, i) => [b[i * 2], b[i * 2 + 1]] = [g >> 8, g & 0xff]);
  return b;
};

Deno.test("formatIp writes IPv6 in the RFC 5952 form", () => {
  assert.equal(formatIp(v6(0, 0, 0, 0, 0, 0, 0, 1)), "::1");
  assert.equal(formatIp(v6()), "::");
  assert.equal(formatIp(v6(0x2001, 0xdb8, 0, 1, 0, 0, 0, 1)), "2001:db8:0:1::1");
  assert.equal(formatIp(v6(0x2001, 0xdb8, 1, 2, 3, 4, 5, 6)), "2001:db8:1:2:3:4:5:6");
  assert.equal(formatIp(v6(0xfe80, 0, 0, 0, 0, 0, 0, 0)), "fe80::");
  // RFC 5952 4.2.2: a single zero group is not shortened; 4.2.3: the first of equal runs.
  assert.equal(formatIp(v6(0x2001, 0xdb8, 0, 1, 1, 1, 1, 1)), "2001:db8:0:1:1:1:1:1");
  assert.equal(formatIp(v6(0x2001, 0, 0, 1, 0, 0, 1, 1)), "2001::1:0:0:1:1");
  assert.equal(formatIp(new Uint8Array([192, 0, 2, 7])), "192.0.2.7");
});

Deno.test("parseIp reads both families, brackets and IPv4-mapped IPv6", () => {
  assert.deepEqual(parseIp("192.0.2.7"), new Uint8Array([192, 0, 2, 7]));
  assert.deepEqual(parseIp("[::1]"), v6(0, 0, 0, 0, 0, 0, 0, 1));
  assert.deepEqual(parseIp("::ffff:10.0.0.1"), new Uint8Array([10, 0, 0, 1]));
  assert.deepEqual(parseIp("2001:DB8::1"), v6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1));
  for (
    const bad of ["", "1.2.3", "1.2.3.256", "1.2.3.4.5", "1::2::3", "12345::", "x", "1.2.3.04a"]
  ) {
    assert.equal(parseIp(bad), undefined, bad);
  }
  for (const text of ["::1", "2001:db8::8:800:200c:417a", "fe80::", "1:2:3:4:5:6:7:8"]) {
    assert.equal(formatIp(parseIp(text)!), text);
  }
  assert.deepEqual(unmapIPv4(v6(0, 0, 0, 0, 0, 0xffff, 0x0a00, 1)), new Uint8Array([10, 0, 0, 1]));
});
