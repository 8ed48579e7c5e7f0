import assert from "node:assert/strict";
import { RateMeter } from "../../src/util/rate.ts";

Deno.test("RateMeter averages over the sliding window with an injected clock", () => {
  let t = 1_000_000;
  const meter = new RateMeter({ windowMs: 5000, now: () => t });
  assert.equal(meter.rate(), 0);
  // 1000 bytes every 100 ms for 10 s: a steady 10000 B/s.
  for (let i = 0; i < 100; i++) {
    t += 100;
    meter.add(1000);
  }
  assert.ok(Math.abs(meter.rate() - 10_000) <= 10_000 * 0.06, `rate ${meter.rate()}`);
  assert.equal(meter.total, 100_000);
  // Silence: once the window (and its last, partly covered bucket) has passed, nothing is left.
  t += 2000;
  assert.ok(meter.rate() > 0);
  t += 4000;
  assert.equal(meter.rate(), 0);
});

Deno.test("RateMeter reports the rate since the first call before a window has passed", () => {
  const meter = new RateMeter({ windowMs: 10_000 });
  meter.rate(0);
  meter.add(2000, 1000);
  meter.add(2000, 2000);
  // 4000 bytes over 2 s, not over the 10 s window.
  assert.equal(meter.rate(2000), 2000);
});
