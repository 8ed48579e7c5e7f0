import assert from "node:assert/strict";
import { toBinary } from "../../../src/util/bytes.ts";
import {
  ChunkedDecoder,
  fieldLines,
  headEnd,
  HttpError,
  parseRequestHead,
  reasonPhrase,
  type RequestHead,
  statusLine,
} from "../../../src/net/http/http1.ts";

// The HTTP/1.1 framing codec of the epoll server, over byte vectors.

const LIMITS = { maxRequestLine: 1024, maxHead: 4096 };
/** Strings as bytes, one byte per char (so "\xe9" is the byte 0xE9, not UTF-8). */
const bytes = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

function parse(raw: string | Uint8Array, limits = LIMITS): RequestHead | undefined {
  const b = typeof raw === "string" ? bytes(raw) : raw;
  return parseRequestHead(b, 0, b.length, limits);
}

/** The status HttpError carries for `raw` (0 when it parses, -1 when incomplete). */
function statusOf(raw: string, limits = LIMITS): number {
  try {
    return parse(raw, limits) ? 0 : -1;
  } catch (e) {
    if (e instanceof HttpError) return e.status;
    throw e;
  }
}

function refuses(status: number, raws: string[], limits = LIMITS): void {
  for (const raw of raws) {
    assert.equal(statusOf(raw, limits), status, JSON.stringify(raw).slice(0, 200));
  }
}

const ANNOUNCE =
  "/announce?info_hash=%a0%a1%a2%a3%a4%a5%a6%a7%a8%a9%aa%ab%ac%ad%ae%af%b0%b1%b2%b3" +
  "&peer_id=-qB4650-abcdefghijkl&port=6881&uploaded=0&downloaded=0&left=1000&compact=1";
const TYPICAL = `GET ${ANNOUNCE} HTTP/1.1\r\nHost: tracker.example:9999\r\n` +
  "User-Agent: qBittorrent/4.6.5\r\nAccept-Encoding: gzip\r\n\r\n";

Deno.test("http1: a typical announce GET", () => {
  const head = parse(TYPICAL)!;
  assert.equal(head.method, "GET");
  assert.equal(head.target, ANNOUNCE);
  assert.equal(head.minor, 1);
  assert.equal(head.keepAlive, true);
  assert.equal(head.contentLength, 0);
  assert.equal(head.expectContinue, false);
  assert.equal(head.length, TYPICAL.length);
  assert.deepEqual(head.headers, [
    ["host", "tracker.example:9999"],
    ["user-agent", "qBittorrent/4.6.5"],
    ["accept-encoding", "gzip"],
  ]);
  // Within a larger buffer (pipelined after another request, followed by the next one):
  // the head's length counts from `start` and stops at its empty line.
  const buf = bytes("XXXX" + TYPICAL + "POST /x HTTP/1.1\r\n");
  const inside = parseRequestHead(buf, 4, buf.length, LIMITS)!;
  assert.equal(inside.length, TYPICAL.length);
  assert.equal(inside.target, ANNOUNCE);
  for (const method of ["POST", "HEAD", "PUT", "M-SEARCH", "get"]) {
    assert.equal(parse(`${method} / HTTP/1.1\r\n\r\n`)!.method, method);
  }
});

Deno.test("http1: keep-alive defaults and the Connection field", () => {
  const keep = (raw: string) => parse(raw)!.keepAlive;
  assert.equal(parse("GET / HTTP/1.0\r\n\r\n")!.minor, 0);
  assert.equal(keep("GET / HTTP/1.0\r\n\r\n"), false);
  assert.equal(keep("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"), true);
  assert.equal(keep("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"), true);
  assert.equal(keep("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n"), false);
  assert.equal(keep("GET / HTTP/1.1\r\n\r\n"), true);
  assert.equal(keep("GET / HTTP/1.1\r\nConnection: close\r\n\r\n"), false);
  assert.equal(keep("GET / HTTP/1.1\r\nconnection: Upgrade, CLOSE\r\n\r\n"), false);
  assert.equal(keep("GET / HTTP/1.1\r\nConnection: closed\r\n\r\n"), true);
});

Deno.test("http1: headers are decoded on first use: lower-case names, trimmed, latin1", () => {
  const raw = bytes(
    "GET / HTTP/1.1\r\nHOST: a.example\r\nX-Spaced: \t  two words \t \r\nX-Empty:\r\n" +
      "X-Latin: caf\xe9 \xff\r\nx-dup: 1\r\nX-Dup: 2\r\n\r\n",
  );
  const head = parseRequestHead(raw, 0, raw.length, LIMITS)!;
  // The server reuses its read buffer: the head must not depend on it after parsing.
  raw.fill(0x41);
  const fields = head.headers;
  assert.deepEqual(fields, [
    ["host", "a.example"],
    ["x-spaced", "two words"],
    ["x-empty", ""],
    ["x-latin", "caf\u00e9 \u00ff"],
    ["x-dup", "1"],
    ["x-dup", "2"],
  ]);
  assert.equal(head.headers, fields, "decoded once");
});

Deno.test("http1: bare LF line ends and leading empty lines", () => {
  const bare = "GET /x HTTP/1.1\nHost: a\nContent-Length: 3\n\n";
  const head = parse(bare)!;
  assert.equal(head.length, bare.length);
  assert.equal(head.contentLength, 3);
  assert.deepEqual(head.headers, [["host", "a"], ["content-length", "3"]]);
  const mixed = "GET /x HTTP/1.1\r\nHost: a\n\r\n";
  assert.equal(parse(mixed)!.length, mixed.length);
  assert.deepEqual(parse(mixed)!.headers, [["host", "a"]]);
  for (const lead of ["\r\n", "\n", "\r\n\r\n\n"]) {
    const raw = lead + "GET /y HTTP/1.1\r\n\r\n";
    const h = parse(raw)!;
    assert.equal(h.target, "/y");
    assert.equal(h.length, raw.length, "the empty lines are consumed with the head");
  }
  assert.equal(parse("\r\n\r\n"), undefined);
  assert.equal(parse("GET / HTTP/1.1\r\n\r\n")!.headers.length, 0);
});

Deno.test("http1: a head is incomplete (undefined) at every split point", () => {
  const raws = [
    TYPICAL,
    "\r\nPOST /t HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n",
    "GET /b HTTP/1.0\nHost: x\n\n",
  ];
  for (const raw of raws) {
    const full = bytes(raw + "NEXT");
    for (let k = 0; k < raw.length; k++) {
      assert.equal(parse(full.subarray(0, k)), undefined, `slice ${k} of ${JSON.stringify(raw)}`);
      // And with the rest of the bytes present in the buffer, beyond `end`.
      assert.equal(parseRequestHead(full, 0, k, LIMITS), undefined, `end ${k}`);
      assert.equal(headEnd(full, 0, k), -1);
    }
    assert.equal(parseRequestHead(full, 0, raw.length, LIMITS)!.length, raw.length);
    assert.equal(parseRequestHead(full, 0, full.length, LIMITS)!.length, raw.length);
    assert.equal(headEnd(full, 0, full.length), raw.length);
  }
});

Deno.test("http1: 414 for a long request line (even incomplete), 431 for a long head", () => {
  const limits = { maxRequestLine: 64, maxHead: 256 };
  const line = (n: number) => `GET /${"a".repeat(n - 14)} HTTP/1.1`; // n bytes
  assert.equal(line(50).length, 50);
  assert.equal(statusOf(`${line(50)}\r\n\r\n`, limits), 0);
  refuses(414, [`${line(80)}\r\n\r\n`, `${line(80)}\n\n`], limits);
  // Not complete yet, already too long: refused without waiting for the rest.
  assert.equal(statusOf("GET /" + "a".repeat(59), limits), -1); // 64 bytes
  refuses(414, ["GET /" + "a".repeat(60), "GET /" + "a".repeat(5000)], limits);
  const fields = (n: number) => `X-F: ${"v".repeat(n)}\r\n`;
  assert.equal(statusOf(`${line(50)}\r\n${fields(150)}\r\n`, limits), 0);
  refuses(
    431,
    [`${line(50)}\r\n${fields(250)}\r\n`, `${line(50)}\r\n${fields(20).repeat(20)}\r\n`],
    limits,
  );
  // Incomplete: undefined while within the limit, 431 once beyond it.
  assert.equal(statusOf(`${line(50)}\r\n${fields(150)}`, limits), -1);
  refuses(431, [`${line(50)}\r\n${fields(250)}`, `${line(50)}\r\n${"v".repeat(300)}`], limits);
});

Deno.test("http1: a flood of empty lines before a request counts against the head limit", () => {
  // Otherwise a client could make the server buffer any amount of CR LF before a request.
  refuses(431, [
    "\r\n".repeat(5000),
    "\n".repeat(5000),
    "\r\n".repeat(3000) + "GET / HTTP/1.1\r\n\r\n",
  ]);
  assert.equal(statusOf("\r\n".repeat(100)), -1);
});

Deno.test("http1: malformed request lines are 400, other versions 505", () => {
  refuses(400, [
    "GET  / HTTP/1.1\r\n\r\n",
    " GET / HTTP/1.1\r\n\r\n",
    "GET / HTTP/1.1 \r\n\r\n",
    "GET /\r\n\r\n",
    "GET\r\n\r\n",
    "G(T / HTTP/1.1\r\n\r\n",
    "GET / HTTX/1.1\r\n\r\n",
    "GET / http/1.1\r\n\r\n",
    "GET / HTTP/1.10\r\n\r\n",
    "GET / HTTP/1.1\r\r\n\r\n",
    "GET /a\x7fb HTTP/1.1\r\n\r\n",
    "GET /a\x00b HTTP/1.1\r\n\r\n",
    "GET /caf\xe9 HTTP/1.1\r\n\r\n",
    "GET /a\tb HTTP/1.1\r\n\r\n",
    "OPTIONS * HTTP/1.1\r\n\r\n",
    "GET ftp://host/x HTTP/1.1\r\n\r\n",
    "GET host/x HTTP/1.1\r\n\r\n",
  ]);
  refuses(505, ["GET / HTTP/2.0\r\n\r\n", "GET / HTTP/1.2\r\n\r\n", "GET / HTTP/0.9\r\n\r\n"]);
});

Deno.test("http1: malformed header lines are 400", () => {
  const req = (field: string) => `GET / HTTP/1.1\r\nHost: a\r\n${field}\r\n\r\n`;
  refuses(400, [
    req("X-A : 1"), // whitespace before the colon
    req("X-A\t: 1"),
    req(" X-Folded: 1"),
    req("X-A: 1\r\n continued"), // obsolete line folding
    req("X-A: 1\r\n\tcontinued"),
    req("X-A 1"), // no colon
    req("X-A"),
    req(": 1"), // no name
    req("X-A: a\x01b"), // control characters
    req("X-A: a\x7f"),
    req("X-A: a\rb"),
    req("X-A: a\x00"),
    req("X\x01A: 1"),
    req("X-\xe9: 1"), // obs-text is for values, not names
    req("X(A): 1"),
  ]);
  assert.deepEqual(parse(req("X-A: a\tb"))!.headers[1], ["x-a", "a\tb"]);
  assert.deepEqual(parse(req("X-A:no-space"))!.headers[1], ["x-a", "no-space"]);
});

Deno.test("http1: absolute-form targets are cut down to their path and query", () => {
  const target = (t: string) => parse(`GET ${t} HTTP/1.1\r\n\r\n`)!.target;
  assert.equal(target("http://tracker.example:9999/announce?x=1"), "/announce?x=1");
  assert.equal(target("HTTPS://[::1]:80/a/b"), "/a/b");
  assert.equal(target("http://h?x=1"), "/?x=1");
  assert.equal(target("http://h"), "/");
  assert.equal(target("/plain?q=%20"), "/plain?q=%20");
});

Deno.test("http1: Content-Length and Transfer-Encoding", () => {
  const req = (...fields: string[]) => `POST /t HTTP/1.1\r\n${fields.join("\r\n")}\r\n\r\n`;
  const length = (...fields: string[]) => parse(req(...fields))!.contentLength;
  assert.equal(length("Content-Length: 12"), 12);
  assert.equal(length("content-length:0"), 0);
  assert.equal(length("Content-Length: 12", "Content-Length: 12"), 12);
  assert.equal(length("Content-Length: 999999999999999"), 999999999999999);
  assert.equal(length("Transfer-Encoding: chunked"), -1);
  assert.equal(length("transfer-encoding: Chunked"), -1);
  refuses(400, [
    req("Content-Length: 12", "Content-Length: 13"),
    req("Content-Length: 12, 12"),
    req("Content-Length: -1"),
    req("Content-Length: +5"),
    req("Content-Length: 0x10"),
    req("Content-Length: 1 2"),
    req("Content-Length:"),
    req("Content-Length: 1000000000000000"),
    req("Content-Length: 5", "Transfer-Encoding: chunked"),
    req("Transfer-Encoding: chunked", "Content-Length: 5"),
  ]);
  refuses(501, [
    req("Transfer-Encoding: gzip"),
    req("Transfer-Encoding: gzip, chunked"),
    req("Transfer-Encoding: chunked", "Transfer-Encoding: chunked"),
    req("Transfer-Encoding: identity"),
  ]);
});

Deno.test("http1: Expect: 100-continue, and 417 for other expectations", () => {
  const expect = (raw: string) => parse(raw)!.expectContinue;
  const post = (version: string, ...fields: string[]) =>
    `POST /t HTTP/${version}\r\n${fields.map((f) => f + "\r\n").join("")}\r\n`;
  assert.equal(expect(post("1.1", "Expect: 100-continue", "Content-Length: 5")), true);
  assert.equal(expect(post("1.1", "Expect: 100-Continue", "Transfer-Encoding: chunked")), true);
  // No body, nothing to wait for; HTTP/1.0 clients do not wait.
  assert.equal(expect(post("1.1", "Expect: 100-continue")), false);
  assert.equal(expect(post("1.1", "Expect: 100-continue", "Content-Length: 0")), false);
  assert.equal(expect(post("1.0", "Expect: 100-continue", "Content-Length: 5")), false);
  assert.equal(expect(post("1.1", "Content-Length: 5")), false);
  refuses(417, [post("1.1", "Expect: 200-ok", "Content-Length: 5"), post("1.1", "Expect:")]);
});

const CHUNKED = "4\r\nWiki\r\n5;name=value\r\npedia\r\nE ; a=b;c\r\n in\r\n\r\nchunks.\r\n" +
  "0\r\nExpires: never\r\nX-Trailer: 1\r\n\r\n";
const CHUNKED_BODY = "Wikipedia in\r\n\r\nchunks.";

function joined(d: ChunkedDecoder): string {
  return d.parts.map((p) => String.fromCharCode(...p)).join("");
}

Deno.test("http1: chunked bodies, fed all at once, byte by byte, split anywhere", () => {
  const buf = bytes("HEAD" + CHUNKED + "GET / HTTP/1.1\r\n\r\n");
  const all = new ChunkedDecoder(1000);
  assert.equal(all.feed(buf, 4, buf.length), CHUNKED.length, "stops after the trailer");
  assert.equal(all.done, true);
  assert.equal(all.size, CHUNKED_BODY.length);
  buf.fill(0); // parts are copies, not views of the (reused) input
  assert.equal(joined(all), CHUNKED_BODY);

  const src = bytes(CHUNKED + "NEXT");
  const one = new ChunkedDecoder(1000);
  let used = 0;
  for (let i = 0; i < src.length; i++) {
    assert.equal(one.done, i >= CHUNKED.length);
    used += one.feed(src, i, i + 1);
  }
  assert.equal(used, CHUNKED.length);
  assert.equal(joined(one), CHUNKED_BODY);
  assert.equal(one.size, CHUNKED_BODY.length);

  for (let k = 0; k <= CHUNKED.length; k++) {
    const d = new ChunkedDecoder(1000);
    const first = d.feed(src, 0, k);
    assert.equal(first, k);
    assert.equal(d.done, k === CHUNKED.length);
    assert.equal(first + d.feed(src, k, src.length), CHUNKED.length, `split at ${k}`);
    assert.equal(joined(d), CHUNKED_BODY);
  }
});

Deno.test("http1: chunked variants: bare LF, upper-case hex, empty body, long chunks", () => {
  const decode = (raw: string, limit = 1000) => {
    const d = new ChunkedDecoder(limit);
    const b = bytes(raw);
    assert.equal(d.feed(b, 0, b.length), raw.length);
    assert.equal(d.done, true);
    return joined(d);
  };
  assert.equal(decode("3\nabc\n0\n\n"), "abc");
  assert.equal(decode("0\r\n\r\n"), "");
  assert.equal(decode("00000000000A\r\n0123456789\r\n0000\r\n\r\n"), "0123456789");
  assert.equal(decode("1a\r\n" + "z".repeat(26) + "\r\n0\r\n\r\n"), "z".repeat(26));
  const big = "x".repeat(70_000);
  assert.equal(decode(`${big.length.toString(16)}\r\n${big}\r\n0\r\n\r\n`, 70_000), big);
});

Deno.test("http1: chunked bodies over the limit are 413, malformed ones 400", () => {
  const status = (raw: string, limit = 10) => {
    const d = new ChunkedDecoder(limit);
    const b = bytes(raw);
    try {
      d.feed(b, 0, b.length);
      return d.done ? 0 : -1;
    } catch (e) {
      assert.ok(e instanceof HttpError, String(e));
      return e.status;
    }
  };
  assert.equal(status("a\r\n0123456789\r\n0\r\n\r\n"), 0); // exactly the limit
  assert.equal(status("b\r\n"), 413, "refused from the size line, before the data");
  assert.equal(status("6\r\nabcdef\r\n5\r\n"), 413, "the limit is on the sum");
  assert.equal(status("ffffffffffff\r\n"), 413);
  for (const bad of ["g\r\n", "\r\n", "-1\r\n", " 1\r\n", "0x1\r\n", "1234567890abc\r\n"]) {
    assert.equal(status(bad, 1e15), 400, JSON.stringify(bad));
  }
  assert.equal(status("3\r\nabcX\r\n"), 400, "data longer than its size");
  assert.equal(status("3\r\nabc0\r\n\r\n"), 400, "no line end after the data");
  assert.equal(status("1;" + "x".repeat(9000)), 400, "size line too long");
  assert.equal(status("3\r\nab"), -1);
});

Deno.test("http1: fieldLines drops framing fields and fields with CR or LF", () => {
  const head = statusLine(200) + fieldLines([
    ["Content-Type", "text/plain"],
    ["Content-Length", "5"],
    ["transfer-encoding", "chunked"],
    ["Connection", "keep-alive"],
    ["Date", "yesterday"],
    ["X-Evil", "a\r\nSet-Cookie: x=1"],
    ["X-Lf", "a\nb"],
    ["X-Bad\r\nName", "v"],
    ["X-Ok", "1"],
  ]);
  assert.equal(head, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Ok: 1\r\n");
  assert.equal(statusLine(413), "HTTP/1.1 413 Content Too Large\r\n");
  assert.equal(reasonPhrase(404), "Not Found");
  assert.equal(reasonPhrase(505), "HTTP Version Not Supported");
  assert.equal(reasonPhrase(299), "Unknown");
});

Deno.test("http1: field bytes decode as latin1 (toBinary), one char each, over any length", () => {
  assert.equal(toBinary(Uint8Array.of(0x63, 0xe9, 0xff, 0x00)), "c\u00e9\u00ff\u0000");
  const long = Uint8Array.from({ length: 10_000 }, (_, i) => i & 255);
  const text = toBinary(long.subarray(3, 9_999));
  assert.equal(text.length, 9_996);
  for (let i = 0; i < text.length; i++) assert.equal(text.charCodeAt(i), (i + 3) & 255);
});
