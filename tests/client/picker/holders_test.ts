import assert from "node:assert/strict";
import { BlockHolders } from "../../../src/client/picker/holders.ts";

Deno.test("BlockHolders: one holder per block without a Map; endgame duplicates beside it", () => {
  const h = new BlockHolders(4);
  assert.equal(h.count(0), 0);
  assert.deepEqual(h.keys(0), []);
  h.add(0, "a", 10);
  h.add(0, "a", 11); // the same peer again changes nothing
  assert.equal(h.count(0), 1);
  assert.equal(h.only(0), "a");
  assert.equal(h.at(0, "a"), 10);
  h.add(0, "b", 20);
  h.add(0, "c", 30);
  assert.equal(h.count(0), 3);
  assert.equal(h.only(0), undefined);
  assert.deepEqual(h.keys(0), ["a", "b", "c"]);
  assert.ok(h.has(0, "b") && !h.has(0, "d") && !h.has(1, "a"));
  assert.equal(h.at(0, "c"), 30);
  // Removing the first holder promotes the next one, with its own time.
  h.remove(0, "a");
  assert.deepEqual(h.keys(0), ["b", "c"]);
  assert.equal(h.at(0, "b"), 20);
  h.remove(0, "c");
  assert.equal(h.only(0), "b");
  h.remove(0, "b");
  assert.equal(h.count(0), 0);
  h.add(1, "x", 1);
  h.add(1, "y", 2);
  h.clear(1);
  assert.equal(h.count(1), 0);
  h.add(1, "z", 3);
  assert.deepEqual(h.keys(1), ["z"], "a cleared block keeps no old duplicates");
});
