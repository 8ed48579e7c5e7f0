import assert from "node:assert/strict";
import { DEFAULT_PIPELINE_LIMIT, PipelineSizer } from "../../src/client/pipeline.ts";

Deno.test("pipeline: starts at 32 and grows towards the peer's reqq", () => {
  const p = new PipelineSizer({ reqq: 500 });
  assert.equal(p.size, 32);
  // Pipeline-limited: rate x RTT equals what is in flight, so the size doubles.
  const rtt = 100;
  const sizes = [];
  for (let i = 0; i < 6; i++) {
    const rate = (p.size * 16384 * 1000) / rtt;
    sizes.push(p.update(rate, rtt));
  }
  assert.deepEqual(sizes, [64, 128, 256, 500, 500, 500]);
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
