import assert from "node:assert/strict";
import { TokenBucket } from "../../../src/client/peers/throttle.ts";

Deno.test("TokenBucket lets a burst through, then paces to the rate", () => {
  let now = 0;
  const bucket = new TokenBucket(1000, { burst: 500, now: () => now });
  assert.equal(bucket.reserve(500), 0);
  // Empty: 250 bytes more means a 250 ms wait at 1000 B/s.
  assert.equal(bucket.reserve(250), 250);
  // Concurrent takers queue behind the debt.
  assert.equal(bucket.reserve(250), 500);
  now = 500; // the debt is paid off exactly
  assert.equal(bucket.reserve(0), 0);
  now = 10_000; // a long idle spell refills only up to the burst
  assert.equal(bucket.reserve(500), 0);
  assert.equal(bucket.reserve(100), 100);
});

Deno.test("TokenBucket.take waits out its debt and returns early on abort", async () => {
  const now = 0;
  const bucket = new TokenBucket(1000, { burst: 100, now: () => now });
  await bucket.take(100); // within the burst: no wait at all
  const abort = new AbortController();
  const waiting = bucket.take(60_000, abort.signal);
  abort.abort();
  await waiting; // would take a minute without the abort
  assert.throws(() => new TokenBucket(0), RangeError);
});
