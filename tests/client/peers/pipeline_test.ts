import assert from "node:assert/strict";
import {
  DEFAULT_PIPELINE_LIMIT,
  MAX_PIPELINE,
  PipelineSizer,
  requestBatch,
} from "../../../src/client/peers/pipeline.ts";

Deno.test("pipeline: starts at 32 and grows towards the peer's reqq (at most MAX_PIPELINE)", () => {
  const p = new PipelineSizer({ reqq: 500 });
  assert.equal(p.size, 32);
  // Pipeline-limited: rate x RTT equals what is in flight, so the size doubles.
  const rtt = 100;
  const sizes = [];
  for (let i = 0; i < 6; i++) {
    const rate = (p.size * 16384 * 1000) / rtt;
    sizes.push(p.update(rate, rtt));
  }
  assert.deepEqual(sizes, [64, 128, MAX_PIPELINE, MAX_PIPELINE, MAX_PIPELINE, MAX_PIPELINE]);
  const small = new PipelineSizer({ reqq: 100 });
  assert.equal(small.update(1e9, 100), 100);
});

Deno.test("pipeline: on a sub-millisecond link it keeps 100 ms of the rate in flight", () => {
  const p = new PipelineSizer({ reqq: 2000 });
  // 2 x BDP would be 2 blocks at 16 MB/s over 1 ms; 100 ms of 16 MB/s is ~98 blocks.
  assert.equal(p.update(16e6, 1), Math.ceil((16e6 * 0.1) / 16384));
  assert.equal(p.update(1e9, 1), MAX_PIPELINE);
});

Deno.test("pipeline: without reqq the limit is 128; a slow peer shrinks it", () => {
  const p = new PipelineSizer();
  assert.equal(p.limit, DEFAULT_PIPELINE_LIMIT);
  assert.equal(p.update(1e9, 1000), 128);
  // 64 KiB/s over a 50 ms RTT is a fraction of one block: down to the floor.
  assert.equal(p.update(65536, 50), 4);
  p.setReqq(2);
  assert.equal(p.size, 2);
  assert.equal(p.update(1e9, 1000), 2);
});

Deno.test("pipeline: requests go out in batches of half a pipeline", () => {
  assert.equal(requestBatch(32, 0), 32, "an empty pipeline is filled at once");
  assert.equal(requestBatch(32, 31), 0, "one free slot waits for more");
  assert.equal(requestBatch(32, 17), 0);
  assert.equal(requestBatch(32, 16), 16);
  assert.equal(requestBatch(32, 40), 0, "over-full after a shrink");
  assert.equal(requestBatch(1, 0), 1, "a snubbed peer still gets its one request");
  assert.equal(requestBatch(3, 2), 1, "below 4 every free slot is used");
});

Deno.test("pipeline: blocks re-size it every 250 ms from the first one, not only on the tick", () => {
  const p = new PipelineSizer({ reqq: 2000 });
  const rates: number[] = [];
  // 100 MB/s from this peer; 1 ms round trips: 100 ms of it is ~610 blocks, capped at 256.
  const meter = { rate: (now: number) => (rates.push(now), 100e6) };
  p.onBlock(1000, meter, 1);
  assert.equal(p.size, 32, "the first block only starts the clock");
  p.onBlock(1249, meter, 1);
  assert.equal(p.size, 32, "not yet 250 ms");
  p.onBlock(1250, meter, 1);
  assert.equal(p.size, 256);
  assert.deepEqual(rates, [1250], "the rate is read only when re-sizing");
  p.onBlock(1400, { rate: () => 1e6 }, 1);
  assert.equal(p.size, 256, "250 ms again before the next re-size");
  p.onBlock(1500, { rate: () => 1e6 }, 1);
  assert.equal(p.size, Math.ceil((1e6 * 0.1) / 16384), "a slower peer shrinks it");
});
