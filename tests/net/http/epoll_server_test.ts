import assert from "node:assert/strict";
import type { HttpHandler, HttpReply, HttpRequest } from "../../../src/net/http/epoll_server.ts";
import { delay, LINUX, withServer } from "./raw_http.ts";

// The epoll HTTP server over real loopback sockets, driven byte by byte with raw TCP.

const enc = new TextEncoder();
const TEXT: [string, string][] = [["content-type", "text/plain"]];
const text = (body: string, status = 200): HttpReply => ({
  status,
  headers: TEXT,
  body: enc.encode(body),
});
const echo: HttpHandler = ({ body }) => ({ status: 200, headers: TEXT, body });
const get = (target: string, fields = "") => `GET ${target} HTTP/1.1\r\nHost: t\r\n${fields}\r\n`;
const ignore = !LINUX;

Deno.test({ name: "epoll: a synchronous reply", ignore }, async () => {
  const seen: HttpRequest[] = [];
  const handler: HttpHandler = (request) => {
    seen.push(request);
    return {
      status: 200,
      headers: [["content-type", "text/plain"], ["x-test", "yes"]],
      body: enc.encode(`hi ${request.head.target}`),
    };
  };
  await withServer(handler, async ({ connect }) => {
    const c = await connect();
    await c.write(get("/hello?x=1", "X-Custom: v\r\n"));
    const r = await c.reply();
    assert.equal(r.statusLine, "HTTP/1.1 200 OK");
    assert.equal(r.text, "hi /hello?x=1");
    assert.equal(r.headers.get("content-length"), "13");
    assert.equal(r.headers.get("x-test"), "yes");
    assert.equal(r.headers.get("content-type"), "text/plain");
    assert.match(r.headers.get("date") ?? "", /^\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT$/);
    assert.equal(r.headers.has("connection"), false, "kept alive");
    assert.equal(seen.length, 1);
    const { head, body, remote } = seen[0]!;
    assert.equal(head.method, "GET");
    assert.deepEqual(head.headers, [["host", "t"], ["x-custom", "v"]]);
    assert.equal(body.length, 0);
    assert.deepEqual(remote, { hostname: "127.0.0.1", port: c.conn.localAddr.port });
  });
});

Deno.test(
  { name: "epoll: an asynchronous reply, sync and async failures are 500", ignore },
  async () => {
    const errors: unknown[] = [];
    const handler: HttpHandler = ({ head }) => {
      if (head.target === "/throw") throw new Error("thrown");
      if (head.target === "/reject") return delay(20).then(() => Promise.reject(new Error("no")));
      return delay(50).then(() => text(`later ${head.target}`));
    };
    await withServer(handler, async ({ connect }) => {
      const c = await connect();
      for (const target of ["/a", "/throw", "/b", "/reject", "/c"]) {
        await c.write(get(target));
        const r = await c.reply();
        if (target === "/throw" || target === "/reject") {
          assert.equal(r.status, 500);
          assert.equal(r.text, "internal error\n");
        } else {
          assert.equal(r.status, 200);
          assert.equal(r.text, `later ${target}`);
        }
        assert.equal(r.headers.has("connection"), false, "the connection goes on after a 500");
      }
      assert.deepEqual(errors.map((e) => (e as Error).message), ["thrown", "no"]);
    }, { onError: (e) => errors.push(e) });
  },
);

Deno.test({ name: "epoll: pipelined requests are answered in order", ignore }, async () => {
  const calls: string[] = [];
  const handler: HttpHandler = ({ head }) => {
    calls.push(head.target);
    const reply = text(`reply ${head.target}`);
    // Async first, then sync: the sync one must wait its turn.
    return head.target.startsWith("/slow") ? delay(150).then(() => reply) : reply;
  };
  await withServer(handler, async ({ connect }) => {
    const c = await connect();
    const targets = ["/slow1", "/fast1", "/slow2", "/fast2", "/fast3"];
    await c.write(targets.map((t) => get(t)).join(""));
    for (const t of targets) assert.equal((await c.reply()).text, `reply ${t}`);
    assert.deepEqual(calls, targets);
  });
});

Deno.test(
  { name: "epoll: keep-alive serves many requests on one connection", ignore },
  async () => {
    const ports = new Set<number>();
    let n = 0;
    const handler: HttpHandler = ({ remote }) => {
      ports.add(remote.port);
      const reply = text(`#${++n}`);
      return n % 2 ? reply : Promise.resolve(reply);
    };
    await withServer(handler, async ({ connect }) => {
      const c = await connect();
      for (let i = 1; i <= 6; i++) {
        await c.write(get("/"));
        const r = await c.reply();
        assert.equal(r.text, `#${i}`);
        assert.equal(r.headers.has("connection"), false);
      }
      assert.equal(ports.size, 1);
      // HTTP/1.0 with keep-alive stays open too.
      await c.write("GET /old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
      assert.equal((await c.reply()).headers.has("connection"), false);
      await c.write(get("/"));
      assert.equal((await c.reply()).text, "#8");
    });
  },
);

Deno.test({ name: "epoll: a 204 reply has no body and no Content-Length", ignore }, async () => {
  await withServer(() => text("ignored", 204), async ({ connect }) => {
    const c = await connect();
    await c.write(get("/") + get("/"));
    for (let i = 0; i < 2; i++) {
      const r = await c.reply();
      assert.equal(r.statusLine, "HTTP/1.1 204 No Content");
      assert.equal(r.headers.has("content-length"), false);
      assert.equal(r.text, "");
    }
  });
});

Deno.test(
  { name: "epoll: Connection: close and HTTP/1.0 close after the reply", ignore },
  async () => {
    await withServer(() => text("bye"), async ({ connect }) => {
      for (const request of [get("/", "Connection: close\r\n"), "GET / HTTP/1.0\r\n\r\n"]) {
        const c = await connect();
        await c.write(request);
        const r = await c.reply();
        assert.equal(r.text, "bye");
        assert.equal(r.headers.get("connection"), "close");
        assert.equal(await c.end(), "eof");
        assert.equal(c.buffered, 0, "nothing after the reply");
      }
      // A client that half-closes after its request still gets the reply.
      const c = await connect();
      await c.write(get("/"));
      await c.conn.closeWrite();
      assert.equal((await c.reply()).text, "bye");
      assert.equal(await c.end(), "eof");
    });
  },
);

Deno.test(
  { name: "epoll: input pipelined after Connection: close is drained, not reset", ignore },
  async () => {
    let calls = 0;
    await withServer(() => (calls++, text("only")), async ({ connect }) => {
      // More than one read's worth behind it: closing at once would reset the connection.
      const c = await connect();
      const writing = c.write(get("/", "Connection: close\r\n") + get("/more").repeat(5000));
      assert.equal((await c.reply()).text, "only");
      await writing;
      assert.equal(await c.end(), "eof");
      assert.equal(c.buffered, 0);
      assert.equal(calls, 1);
    });
  },
);

Deno.test(
  { name: "epoll: a slow async reply is dated now and kept alive from now", ignore },
  async () => {
    const handler: HttpHandler = ({ head }) =>
      head.target === "/slow" ? delay(3000).then(() => text("slow")) : text("fast");
    await withServer(handler, async ({ connect }) => {
      const c = await connect();
      await c.write(get("/slow"));
      const r = await c.reply();
      const age = Date.now() - Date.parse(r.headers.get("date")!);
      assert.ok(age < 2000, `Date is ${age} ms old`);
      // Idle for less than the idle timeout, counted from the reply (not from the request).
      await delay(1200);
      await c.write(get("/fast"));
      assert.equal((await c.replyOrEnd())?.text, "fast", "closed before its idle timeout");
    }, { idleTimeoutMs: 2500 });
  },
);

Deno.test({ name: "epoll: a request written one byte at a time", ignore }, async () => {
  const bodies: string[] = [];
  const handler: HttpHandler = ({ head, body }) => {
    bodies.push(new TextDecoder().decode(body));
    return text(`${head.method} ${head.target} ${head.headers.length}`);
  };
  await withServer(handler, async ({ connect }) => {
    const c = await connect();
    c.conn.setNoDelay(true);
    const request = "POST /slow HTTP/1.1\r\nHost: t\r\nX-A: 1\r\nContent-Length: 5\r\n\r\nhello";
    for (let i = 0; i < request.length; i++) {
      await c.write(request.slice(i, i + 1));
      await delay(2);
    }
    assert.equal((await c.reply()).text, "POST /slow 3");
    assert.deepEqual(bodies, ["hello"]);
  });
});

Deno.test({ name: "epoll: a Content-Length body reaches the handler", ignore }, async () => {
  const body = Uint8Array.from({ length: 200_000 }, (_, i) => (i * 7919) & 255);
  await withServer(echo, async ({ connect }) => {
    const c = await connect();
    await c.write(`POST /echo HTTP/1.1\r\nContent-Length: ${body.length}\r\n\r\n`);
    await c.write(body.subarray(0, 1000));
    await delay(20);
    await c.write(body.subarray(1000));
    const r = await c.reply();
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, body);
    // Framing resumes right after the body.
    await c.write(`POST /x HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc${get("/after")}`);
    assert.equal((await c.reply()).text, "abc");
    assert.equal((await c.reply()).text, "");
  }, { maxBody: 1024 * 1024 });
});

Deno.test({ name: "epoll: a chunked body reaches the handler", ignore }, async () => {
  const lengths: number[] = [];
  const handler: HttpHandler = (r) => (lengths.push(r.head.contentLength), echo(r));
  await withServer(handler, async ({ connect }) => {
    const c = await connect();
    await c.write("POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel");
    await delay(20);
    await c.write("lo\r\n6;ext=1\r\n world\r\n");
    await delay(20);
    await c.write(`0\r\nX-Trailer: 1\r\n\r\n${get("/next")}`);
    assert.equal((await c.reply()).text, "hello world");
    assert.equal((await c.reply()).text, "");
    assert.deepEqual(lengths, [-1, 0]);
  });
});

Deno.test(
  { name: "epoll: a body over maxBody is 413 and the connection closes", ignore },
  async () => {
    let calls = 0;
    const handler: HttpHandler = (r) => (calls++, echo(r));
    await withServer(handler, async ({ connect }) => {
      const declared = await connect();
      await declared.write("POST /big HTTP/1.1\r\nContent-Length: 5000\r\n\r\n");
      await declared.write(new Uint8Array(5000));
      const r1 = await declared.reply();
      assert.equal(r1.status, 413);
      assert.equal(r1.headers.get("connection"), "close");
      assert.equal(await declared.end(), "eof");

      const chunked = await connect();
      const chunk = `258\r\n${"a".repeat(600)}\r\n`;
      await chunked.write(`POST /big HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n${chunk}`);
      await delay(20);
      await chunked.write(chunk + chunk + "0\r\n\r\n");
      assert.equal((await chunked.reply()).status, 413);
      assert.equal(await chunked.end(), "eof");
      assert.equal(calls, 0);

      const fits = await connect();
      await fits.write(`POST /ok HTTP/1.1\r\nContent-Length: 1000\r\n\r\n${"b".repeat(1000)}`);
      assert.equal((await fits.reply()).text, "b".repeat(1000));
    }, { maxBody: 1000 });
  },
);

Deno.test(
  { name: "epoll: Expect: 100-continue gets 100 Continue before the body", ignore },
  async () => {
    await withServer(echo, async ({ connect }) => {
      const c = await connect();
      await c.write("POST /e HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
      const interim = await c.reply();
      assert.equal(interim.statusLine, "HTTP/1.1 100 Continue");
      assert.equal(c.buffered, 0);
      await c.write("hello");
      const r = await c.reply();
      assert.equal(r.status, 200);
      assert.equal(r.text, "hello");
      // A client that sent the body along does not get one.
      await c.write("POST /e HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi");
      assert.equal((await c.reply()).text, "hi");
      // Nor does one that will not have its body read.
      await c.write("POST /e HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 99999\r\n\r\n");
      assert.equal((await c.reply()).status, 413);
      assert.equal(await c.end(), "eof");
    }, { maxBody: 1000 });
  },
);

Deno.test(
  { name: "epoll: malformed requests are refused, then the connection drains", ignore },
  async () => {
    let calls = 0;
    await withServer(() => (calls++, text("ok")), async ({ connect }) => {
      const cases: [string, number][] = [
        ["GET / HTTP/1.1\r\nBad Header\r\n\r\n", 400],
        ["GET / HTTP/2.0\r\n\r\n", 505],
        [`GET /${"a".repeat(9000)} HTTP/1.1\r\n\r\n`, 414],
        [`GET / HTTP/1.1\r\nX: ${"a".repeat(20_000)}\r\n\r\n`, 431],
        ["POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501],
        ["POST / HTTP/1.1\r\nExpect: party\r\nContent-Length: 1\r\n\r\nx", 417],
        ["POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400],
      ];
      for (const [request, status] of cases) {
        const c = await connect();
        await c.write(request);
        const r = await c.reply();
        assert.equal(r.status, status, request.slice(0, 40));
        assert.equal(r.headers.get("connection"), "close");
        // What the client sends next is read and dropped: the close is clean, not a reset.
        await c.write(get("/ignored"));
        assert.equal(await c.end(), "eof");
      }
      assert.equal(calls, 0);
      // After a good request on the same connection: answered, then refused.
      const c = await connect();
      await c.write(get("/fine") + "NONSENSE\r\n\r\n");
      assert.equal((await c.reply()).status, 200);
      assert.equal((await c.reply()).status, 400);
      assert.equal(await c.end(), "eof");
    }, { limits: { maxRequestLine: 8192, maxHead: 16384 } });
  },
);

Deno.test(
  { name: "epoll: request and idle deadlines close stalled connections", ignore },
  async () => {
    await withServer(() => text("ok"), async ({ connect }) => {
      const stalled = await connect();
      await stalled.write("GET / HTTP/1.1\r\nHost:");
      const idle = await connect();
      await idle.write(get("/"));
      assert.equal((await idle.reply()).text, "ok");
      // Closed within a generous bound (the deadlines are checked once a second).
      for (const c of [stalled, idle]) {
        assert.equal(await c.end(15_000), "eof");
        assert.equal(c.buffered, 0);
      }
    }, { requestTimeoutMs: 300, idleTimeoutMs: 300 });
  },
);

Deno.test(
  { name: "epoll: a large reply read slowly arrives whole (partial writes)", ignore },
  async () => {
    const big = Uint8Array.from({ length: 8 * 1024 * 1024 }, (_, i) => (i * 31 + (i >> 12)) & 255);
    const handler: HttpHandler = ({ head }) =>
      head.target === "/big" ? { status: 200, headers: TEXT, body: big } : text("small");
    await withServer(handler, async ({ connect }) => {
      const c = await connect();
      // Both at once: the second waits behind the first's unsent bytes.
      await c.write(get("/big") + get("/small"));
      await delay(200); // the socket buffers fill up before anything is read
      const r = await c.reply({ readSize: 32 * 1024, pauseMs: 1 });
      assert.equal(r.body.length, big.length);
      assert.ok(r.body.every((b, i) => b === big[i]), "body differs");
      assert.equal((await c.reply()).text, "small");
      await c.write(get("/big"));
      assert.equal((await c.reply()).body.length, big.length);
    });
  },
);

Deno.test({ name: "epoll: close() waits for a handler in flight", ignore }, async () => {
  let release!: () => void;
  const released = new Promise<void>((r) => release = r);
  let started!: () => void;
  const running = new Promise<void>((r) => started = r);
  const events: string[] = [];
  const handler: HttpHandler = async ({ head }) => {
    if (head.target !== "/slow") return text("quick");
    started();
    await released;
    events.push("handled");
    return text("finally");
  };
  await withServer(handler, async ({ server, connect }) => {
    const slow = await connect();
    await slow.write(get("/slow"));
    // Another connection is served while the first one's handler waits.
    const other = await connect();
    await other.write(get("/"));
    assert.equal((await other.reply()).text, "quick");
    await running;
    const closing = server.close().then(() => events.push("closed"));
    await delay(100);
    assert.deepEqual(events, []);
    release();
    await closing;
    assert.deepEqual(events, ["handled", "closed"]);
    const r = await slow.reply();
    assert.equal(r.text, "finally");
    assert.equal(r.headers.get("connection"), "close");
    assert.equal(await slow.end(), "eof");
    await assert.rejects(() => Deno.connect({ hostname: "127.0.0.1", port: server.port }));
  });
});
