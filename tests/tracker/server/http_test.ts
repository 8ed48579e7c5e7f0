import assert from "node:assert/strict";
import { decode } from "../../../src/bencode/mod.ts";
import {
  createTrackerCore,
  httpAnnounce,
  httpScrape,
  MAX_QUERY_BYTES,
  MemorySwarmStore,
} from "../../../src/tracker/server/mod.ts";
import { HttpRoute, routeOf } from "../../../src/tracker/server/http.ts";
import { announcePath, HASH_A, pct, peerId, testTracker, text } from "./helpers.ts";

// The HTTP adapter: one routing decision for every server, and the core behind HTTP.

/** An announce whose query is exactly `bytes` long. */
function announceOfQuery(bytes: number): string {
  const path = announcePath({ id: peerId("a"), port: 1 }) + "&x=";
  const query = path.length - path.indexOf("?") - 1;
  return path + "a".repeat(bytes - query);
}

Deno.test("http: the Hono app alone refuses queries over 16 KiB with 414", async () => {
  const t = await testTracker();
  try {
    const long = await t.get(announceOfQuery(MAX_QUERY_BYTES + 1));
    assert.equal(long.status, 414);
    assert.equal(text(long.body), "query string too long\n");
    assert.equal(t.store.totals().peers, 0);
    assert.equal((await t.get(`/scrape?${"x".repeat(MAX_QUERY_BYTES + 1)}`)).status, 414);
    assert.equal((await t.get(`/?q=${"b".repeat(MAX_QUERY_BYTES)}`)).status, 414);
    // At the limit it is served.
    const ok = await t.get(announceOfQuery(MAX_QUERY_BYTES));
    assert.equal(ok.status, 200);
    assert.equal((decode(ok.body) as Map<string, unknown>).get("incomplete"), 1);
  } finally {
    await t.close();
  }
});

Deno.test("http: routeOf is the same decision for a request target and a full URL", () => {
  const url = "http://[::1]:6969";
  const cases: [string, string, HttpRoute][] = [
    ["GET", "/announce", HttpRoute.Announce],
    ["GET", "/announce?info_hash=x", HttpRoute.Announce],
    ["POST", "/announce?info_hash=x", HttpRoute.Other],
    ["GET", "/announcer", HttpRoute.Other],
    ["GET", "/announce/x", HttpRoute.Other],
    ["GET", "/scrape?info_hash=x", HttpRoute.Other],
    ["GET", "/", HttpRoute.Other],
    ["GET", `/announce?${"x".repeat(MAX_QUERY_BYTES)}`, HttpRoute.Announce],
    ["GET", `/announce?${"x".repeat(MAX_QUERY_BYTES + 1)}`, HttpRoute.TooLong],
    ["POST", `/torrents?${"x".repeat(MAX_QUERY_BYTES + 1)}`, HttpRoute.TooLong],
  ];
  for (const [method, target, route] of cases) {
    assert.equal(routeOf(method, target, 0), route, `${method} ${target.slice(0, 40)}`);
    assert.equal(routeOf(method, url + target, url.length), route, `${method} ${url}${target}`);
  }
});

Deno.test("http: httpAnnounce never throws; a bug becomes a logged internal error", async () => {
  const warnings: string[] = [];
  const store = new MemorySwarmStore();
  store.announce = () => {
    throw new Error("boom");
  };
  const core = await createTrackerCore({ store, onWarning: (m) => warnings.push(m) });
  try {
    const reply = httpAnnounce(core, announcePath({ id: peerId("a"), port: 1 }), "10.0.0.1");
    const d = decode(reply) as Map<string, Uint8Array>;
    assert.equal(text(d.get("failure reason")!), "internal tracker error");
    assert.match(warnings.join("\n"), /boom/);
    const refused = httpAnnounce(core, announcePath({ id: peerId("a"), port: 1 }), undefined);
    const r = decode(refused) as Map<string, Uint8Array>;
    assert.equal(text(r.get("failure reason")!), "cannot tell your IP address");
    assert.equal(warnings.length, 1, "a refusal is no bug");
  } finally {
    await core.close();
  }
});

Deno.test("http: a trusted X-Forwarded-For names the peer; the app trusts it only if told", async () => {
  const core = await createTrackerCore();
  const plain = await testTracker();
  try {
    const path = announcePath({ id: peerId("a"), port: 1 });
    httpAnnounce(core, path, "10.0.0.1", " 203.0.113.9 , 10.0.0.1");
    plain.announce(path, "10.0.0.1", "203.0.113.9");
    const me = announcePath({ id: peerId("b"), port: 2 });
    const peers = (reply: Uint8Array) =>
      [...((decode(reply) as Map<string, unknown>).get("peers") as Uint8Array)].slice(0, 4);
    assert.deepEqual(peers(httpAnnounce(core, me, "10.0.0.2")), [203, 0, 113, 9]);
    assert.deepEqual(peers(plain.announce(me, "10.0.0.2")), [10, 0, 0, 1]);
    // The app's core is the one its routes use: another transport sees the same swarms.
    assert.equal(plain.core.stats().announces, 2);
    assert.equal(plain.core.store, plain.store);
  } finally {
    await core.close();
    await plain.close();
  }
});

Deno.test("http: httpScrape answers tracked swarms and refuses a bad hash", async () => {
  const core = await createTrackerCore();
  try {
    httpAnnounce(core, announcePath({ id: peerId("a"), port: 1, left: 0 }), "10.0.0.1");
    assert.equal(
      text(httpScrape(core, `/scrape?info_hash=${pct(HASH_A)}`)),
      "d5:filesd20:" + text(HASH_A) + "d8:completei1e10:downloadedi0e10:incompletei0eeee",
    );
    assert.match(text(httpScrape(core, "/scrape?info_hash=abc")), /20 bytes, got 3/);
  } finally {
    await core.close();
  }
});
