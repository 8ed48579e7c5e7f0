import assert from "node:assert/strict";
import { decode, encode } from "../../../src/bencode/mod.ts";
import {
  EpollServer,
  type HttpHandler,
  type HttpReply,
} from "../../../src/net/http/epoll_server.ts";
import { startTracker, TrackerError } from "../../../src/tracker/server/mod.ts";
import { announcePath, peerId } from "./helpers.ts";
import { delay, HAS_IPV6, LINUX, Raw, withServer } from "../../net/http/raw_http.ts";

// The epoll server's addresses and limits, and the tracker served through it.

const enc = new TextEncoder();
const ignore = !LINUX;
const text = (body: string): HttpReply => ({ status: 200, headers: [], body: enc.encode(body) });
const remoteName: HttpHandler = ({ remote }) => ({
  status: 200,
  headers: [],
  body: enc.encode(remote.hostname),
});
const get = (target: string, fields = "") => `GET ${target} HTTP/1.1\r\nHost: t\r\n${fields}\r\n`;

async function remoteOf(connect: (hostname?: string) => Promise<Raw>, hostname: string) {
  const c = await connect(hostname);
  await c.write(get("/"));
  return (await c.reply()).text;
}

Deno.test(
  { name: "epoll: an IPv6 listener reports IPv6 peers", ignore: ignore || !HAS_IPV6 },
  () =>
    withServer(remoteName, async ({ connect }) => {
      assert.equal(await remoteOf(connect, "::1"), "::1");
    }, { host: "::1" }),
);

Deno.test(
  { name: "epoll: a :: listener shows IPv4 peers as IPv4", ignore: ignore || !HAS_IPV6 },
  () =>
    withServer(remoteName, async ({ connect }) => {
      assert.equal(await remoteOf(connect, "127.0.0.1"), "127.0.0.1");
      assert.equal(await remoteOf(connect, "::1"), "::1");
    }, { host: "::" }),
);

Deno.test({ name: "epoll: a listener it cannot open throws", ignore }, () => {
  const options = {
    port: 0,
    handler: remoteName,
    limits: { maxRequestLine: 100, maxHead: 1000 },
    maxBody: 10,
  };
  assert.throws(() => new EpollServer({ ...options, host: "localhost" }), /not an IP address/);
  assert.throws(() => new EpollServer({ ...options, host: "192.0.2.1" })); // not ours
});

Deno.test({ name: "epoll: close() twice closes nothing else", ignore }, async () => {
  const server = new EpollServer({
    host: "127.0.0.1",
    port: 0,
    handler: remoteName,
    limits: { maxRequestLine: 100, maxHead: 1000 },
    maxBody: 10,
  });
  await server.close();
  // Takes the lowest free descriptors: the ones the server just closed.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    await Promise.all([server.close(), server.close()]);
    const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
    const accepted = await listener.accept();
    accepted.close();
    client.close();
  } finally {
    listener.close();
  }
});

Deno.test(
  { name: "epoll: connections over maxConnections are closed at once", ignore },
  () =>
    withServer(remoteName, async ({ connect }) => {
      const held = [await connect(), await connect()];
      for (const c of held) {
        await c.write(get("/"));
        assert.equal((await c.reply()).text, "127.0.0.1");
      }
      const refused = await connect();
      await refused.write(get("/"));
      assert.equal(await refused.replyOrEnd(), undefined);
      held[0]!.close();
      // Served again once the server has seen that close (it may take a moment).
      for (let attempt = 0;; attempt++) {
        const c = await connect();
        await c.write(get("/"));
        const got = await c.replyOrEnd();
        c.close();
        if (got?.text === "127.0.0.1") break;
        assert.ok(attempt < 100, "a slot never came free");
        await delay(50);
      }
    }, { maxConnections: 2 }),
);

Deno.test(
  { name: "epoll: clients that leave mid-handler or mid-reply harm nothing", ignore },
  () => {
    const big = new Uint8Array(8 * 1024 * 1024).fill(7);
    const errors: unknown[] = [];
    const handler: HttpHandler = (request) => {
      if (request.head.target === "/big") return { status: 200, headers: [], body: big };
      return delay(request.head.target === "/slow" ? 200 : 0).then(() => remoteName(request));
    };
    return withServer(handler, async ({ connect }) => {
      const gone = await connect();
      await gone.write(get("/slow"));
      gone.close(); // before its reply
      const reader = await connect();
      await reader.write(get("/big"));
      await reader.conn.read(new Uint8Array(1000)); // a little of it, then away
      reader.close();
      await delay(400);
      assert.equal(await remoteOf(connect, "127.0.0.1"), "127.0.0.1");
      assert.deepEqual(errors, []);
    }, { onError: (e) => errors.push(e) });
  },
);

Deno.test({ name: "epoll: many concurrent connections are all answered", ignore }, async () => {
  const handler: HttpHandler = ({ head }) => {
    const n = Number(head.target.slice(1));
    return n % 3 === 0 ? text(head.target) : delay(n % 7).then(() => text(head.target));
  };
  await withServer(handler, async ({ connect }) => {
    const one = async (i: number) => {
      const c = await connect();
      await c.write(get(`/${i}`, "Connection: close\r\n"));
      assert.equal((await c.reply()).text, `/${i}`);
      assert.equal(await c.end(), "eof");
      c.close();
    };
    await Promise.all(Array.from({ length: 200 }, (_, i) => one(i)));
  });
});

Deno.test({ name: "epoll: HEAD gets the length but no body", ignore }, async () => {
  await withServer(() => text("hello"), async ({ connect }) => {
    const c = await connect();
    await c.write("HEAD / HTTP/1.1\r\n\r\n");
    const r = await c.reply({ head: true });
    assert.equal(r.headers.get("content-length"), "5");
    assert.equal(c.buffered, 0);
    await c.write(get("/"));
    assert.equal((await c.reply()).text, "hello", "no stray body bytes before it");
  });
});

// The tracker through startTracker.

const base = (t: { port: number }) => `http://127.0.0.1:${t.port}`;

function torrent(name: string): Uint8Array<ArrayBuffer> {
  const info = { length: 5, name, "piece length": 16384, pieces: new Uint8Array(20) };
  return encode({ info }) as Uint8Array<ArrayBuffer>;
}

async function announce(t: { port: number }, id: string, headers: Record<string, string> = {}) {
  const res = await fetch(base(t) + announcePath({ id: peerId(id), port: 6000 + id.length }), {
    headers,
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/plain");
  const reply = decode(new Uint8Array(await res.arrayBuffer())) as Map<string, unknown>;
  assert.equal(reply.has("failure reason"), false, String(reply.get("failure reason")));
  assert.ok(reply.has("interval"));
  return reply;
}

Deno.test(
  { name: "tracker over epoll: announce, /stats and routes through Hono", ignore },
  async () => {
    const t = await startTracker({ host: "127.0.0.1", port: 0, http: "epoll" });
    try {
      assert.equal(t.http, "epoll");
      assert.equal(t.url, `${base(t)}/announce`);
      await announce(t, "1");
      const res = await fetch(`${base(t)}/stats`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
      const stats = await res.json();
      assert.equal(stats.announces, 1);
      assert.equal(stats.peers, 1);
      const missing = await fetch(`${base(t)}/nowhere`);
      assert.equal(missing.status, 404);
      await missing.body?.cancel();
      // Raw: HTTP/1.0 without Host, a method fetch() forbids, a query over the limit.
      const c = new Raw(await Deno.connect({ hostname: "127.0.0.1", port: t.port }));
      try {
        await c.write("GET /stats HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        assert.equal(JSON.parse((await c.reply()).text).announces, 1);
        await c.write("HEAD /stats HTTP/1.1\r\n\r\n");
        assert.equal((await c.reply({ head: true })).status, 200);
        await c.write(get(`/scrape?${"x".repeat(17 * 1024)}`));
        assert.equal((await c.reply()).status, 414);
        await c.write("TRACE / HTTP/1.1\r\n\r\n");
        assert.equal((await c.reply()).status, 400);
      } finally {
        c.close();
      }
    } finally {
      await t.close();
    }
  },
);

Deno.test({ name: "tracker over epoll: POST /torrents, plain and chunked", ignore }, async () => {
  const dir = await Deno.makeTempDir({ prefix: "btx-epoll-" });
  const t = await startTracker({ host: "127.0.0.1", port: 0, http: "epoll", torrentsDir: dir });
  try {
    const first = torrent("first");
    const res = await fetch(`${base(t)}/torrents`, { method: "POST", body: first });
    assert.equal(res.status, 201, await res.text());
    const second = torrent("second");
    const c = new Raw(await Deno.connect({ hostname: "127.0.0.1", port: t.port }));
    try {
      await c.write("POST /torrents HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
      const half = second.length >> 1;
      for (const part of [second.subarray(0, half), second.subarray(half)]) {
        await c.write(`${part.length.toString(16)}\r\n`);
        await c.write(part);
        await c.write("\r\n");
      }
      await c.write("0\r\n\r\n");
      const r = await c.reply();
      assert.equal(r.status, 201, r.text);
      assert.equal(JSON.parse(r.text).created, true);
    } finally {
      c.close();
    }
    const list = await (await fetch(`${base(t)}/torrents`)).json() as { name: string }[];
    assert.deepEqual(list.map((e) => e.name).sort(), ["first", "second"]);
  } finally {
    await t.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test(
  { name: "tracker over epoll: X-Forwarded-For only behind a trusted proxy", ignore },
  async () => {
    for (const trustProxy of [true, false]) {
      const t = await startTracker({ host: "127.0.0.1", port: 0, http: "epoll", trustProxy });
      try {
        await announce(t, "1", { "x-forwarded-for": "203.0.113.9, 10.0.0.1" });
        const peers = (await announce(t, "22")).get("peers") as Uint8Array;
        assert.deepEqual([...peers.subarray(0, 4)], trustProxy ? [203, 0, 113, 9] : [127, 0, 0, 1]);
      } finally {
        await t.close();
      }
    }
  },
);

Deno.test(
  { name: "tracker: http deno and auto, and epoll refused for a host name", ignore },
  async () => {
    const deno = await startTracker({ host: "127.0.0.1", port: 0, http: "deno" });
    try {
      assert.equal(deno.http, "deno");
      await announce(deno, "1");
      const stats = await (await fetch(`${base(deno)}/stats`)).json();
      assert.equal(stats.announces, 1);
    } finally {
      await deno.close();
    }
    const auto = await startTracker({ host: "127.0.0.1", port: 0 });
    try {
      assert.equal(auto.http, "epoll");
      await announce(auto, "1");
    } finally {
      await auto.close();
    }
    await assert.rejects(
      () => startTracker({ host: "localhost", port: 0, http: "epoll" }),
      (e) => e instanceof TrackerError && /must be an IP address/.test(e.message),
    );
    const named = await startTracker({ host: "localhost", port: 0, http: "auto" });
    try {
      assert.equal(named.http, "deno");
    } finally {
      await named.close();
    }
  },
);

Deno.test({ name: "tracker over epoll on ::", ignore: ignore || !HAS_IPV6 }, async () => {
  const t = await startTracker({ host: "::", port: 0, http: "epoll" });
  try {
    assert.deepEqual(t.urls, [
      `http://127.0.0.1:${t.port}/announce`,
      `http://[::1]:${t.port}/announce`,
    ]);
    for (const url of t.urls) {
      const res = await fetch(url.replace("/announce", "/stats"));
      assert.equal(res.status, 200);
      await res.body?.cancel();
    }
  } finally {
    await t.close();
  }
});
