/**
 * A small HTTP/1.1 server over raw sockets and epoll (through FFI), for the tracker. It exists
 * for speed: an announce over Deno.serve costs ~26 us of CPU before any tracker code runs,
 * this loop ~17 us (bench/RESULTS.md), and a tracker's load is one short connection per
 * announce. Synchronous handlers (announces) are answered inside the loop, with no promise;
 * asynchronous ones (the rest of the app) are awaited in order per connection.
 */
import { concat, writeDecimal } from "../../util/bytes.ts";
import { formatIp, parseIp, type PeerAddress, unmapIPv4 } from "../../util/ip.ts";
import { ChunkedDecoder, fieldLines, type HeadLimits, HttpError } from "./http1.ts";
import { parseRequestHead, type RequestHead, statusLine } from "./http1.ts";
import * as c from "../../sys/libc.ts";

export interface HttpRequest {
  head: RequestHead;
  /** The request body (empty without one). */
  body: Uint8Array;
  remote: PeerAddress;
}

export interface HttpReply {
  status: number;
  /** Response fields; pass the same array again to have its serialisation reused. */
  headers: readonly [string, string][];
  /** Copied out before the handler is called again, so it may be a reused buffer's view. */
  body: Uint8Array;
}

export type HttpHandler = (request: HttpRequest) => HttpReply | Promise<HttpReply>;

export interface EpollServerOptions {
  /** An IPv4 or IPv6 address literal. */
  host: string;
  port: number;
  handler: HttpHandler;
  limits: HeadLimits;
  /** Largest request body; HTTP 413 above. */
  maxBody: number;
  /** Connections served at once; more are closed as they come. Default 16384. */
  maxConnections?: number;
  /** Time to receive a whole request once it starts. Default 20 s. */
  requestTimeoutMs?: number;
  /** Time a kept-alive connection may sit idle. Default 30 s. */
  idleTimeoutMs?: number;
  /** A handler threw or rejected (the client got HTTP 500). */
  onError?: (error: unknown) => void;
}

interface Conn {
  fd: number;
  remote: PeerAddress;
  /** Received bytes not yet part of a request. */
  pending: Uint8Array | null;
  head: RequestHead | null;
  bodyParts: Uint8Array[];
  bodySize: number;
  chunked: ChunkedDecoder | null;
  /** Reply bytes the socket did not take yet. */
  out: Uint8Array | null;
  busy: boolean;
  closeWhenWritten: boolean;
  /** Our side is shut; input is read and dropped until the peer closes. */
  draining: boolean;
  peerClosed: boolean;
  closed: boolean;
  deadline: number;
  /** Registered epoll events, -1 when not registered. */
  events: number;
}

const MAX_EVENTS = 256;
const READ_SIZE = 64n * 1024n;
const DRAIN_MS = 2000;
/** How long the loop blocks its thread waiting for sockets before it waits on the pool. */
const SPIN_MS = 2;
const CONTINUE = new TextEncoder().encode("HTTP/1.1 100 Continue\r\n\r\n");
const encoder = new TextEncoder();

/** Listens at once (throws Error when it cannot) and serves until `close()`. */
export class EpollServer {
  readonly port: number;
  readonly #o: Required<Omit<EpollServerOptions, "onError">> & Pick<EpollServerOptions, "onError">;
  readonly #c: c.Libc;
  readonly #listener: number;
  readonly #epoll: number;
  readonly #wake: number;
  readonly #conns = new Map<number, Conn>();
  readonly #inflight = new Set<Promise<void>>();
  readonly #read = new Uint8Array(Number(READ_SIZE));
  #out = new Uint8Array(OUT_KEPT);
  readonly #event = new Uint8Array(c.EPOLL_EVENT_SIZE);
  readonly #eventView = new DataView(this.#event.buffer);
  readonly #addr = new Uint8Array(28);
  readonly #addrLen = new Uint8Array(4);
  readonly #addrLenView = new DataView(this.#addrLen.buffer);
  readonly #lastAddr = new Uint8Array(28);
  #lastHost = "";
  readonly #fieldCache = new WeakMap<object, Uint8Array>();
  #now = Date.now();
  #date = new Uint8Array(0);
  #dateSecond = -1;
  #closing = false;
  #closed: Promise<void> | undefined;
  #paused = false;
  readonly #loop: Promise<void>;
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(options: EpollServerOptions) {
    this.#o = {
      maxConnections: 16384,
      requestTimeoutMs: 20_000,
      idleTimeoutMs: 30_000,
      ...options,
    };
    this.#c = c.libc();
    const ip = parseIp(options.host);
    if (!ip) throw new Error(`not an IP address: ${options.host}`);
    const v6 = ip.length === 16;
    const type = c.SOCK_STREAM | c.SOCK_NONBLOCK | c.SOCK_CLOEXEC;
    const fd = this.#c.socket(v6 ? c.AF_INET6 : c.AF_INET, type, 0);
    if (fd < 0) throw new Error(c.describeErrno(c.errno()));
    const addr = new Uint8Array(v6 ? 28 : 16);
    const view = new DataView(addr.buffer);
    view.setUint16(0, v6 ? c.AF_INET6 : c.AF_INET, true);
    view.setUint16(2, options.port, false);
    addr.set(ip, v6 ? 8 : 4);
    c.setIntOption(fd, c.SOL_SOCKET, c.SO_REUSEADDR, 1);
    // HTTP clients speak first: the kernel hands over a connection once its request is in,
    // so the first read nearly always has it (about 3 us of system time less per announce).
    c.setIntOption(fd, c.IPPROTO_TCP, c.TCP_DEFER_ACCEPT, 10);
    // "::" serves IPv4 too (as Deno.serve does on a dual-stack host).
    if (v6) c.setIntOption(fd, c.IPPROTO_IPV6, c.IPV6_V6ONLY, ip.every((b) => b === 0) ? 0 : 1);
    if (this.#c.bind(fd, addr, addr.length) !== 0 || this.#c.listen(fd, 4096) !== 0) {
      const why = c.describeErrno(c.errno());
      this.#c.close(fd);
      throw new Error(why);
    }
    const len = Uint32Array.of(addr.length);
    this.#c.getsockname(fd, addr, new Uint8Array(len.buffer));
    this.port = view.getUint16(2, false);
    this.#listener = fd;
    // (EPOLL_CLOEXEC and EFD_CLOEXEC, EFD_NONBLOCK have the values of the SOCK_ flags.)
    this.#epoll = this.#c.epoll_create1(c.SOCK_CLOEXEC);
    this.#wake = this.#c.eventfd(0, c.SOCK_NONBLOCK | c.SOCK_CLOEXEC);
    if (this.#epoll < 0 || this.#wake < 0) {
      const why = c.describeErrno(c.errno());
      for (const d of [fd, this.#epoll, this.#wake]) if (d >= 0) this.#c.close(d);
      throw new Error(why);
    }
    this.#watch(this.#listener, c.EPOLL_CTL_ADD, c.EPOLLIN);
    this.#watch(this.#wake, c.EPOLL_CTL_ADD, c.EPOLLIN);
    this.#timer = setInterval(() => this.#expire(), 1000);
    this.#loop = this.#run();
  }

  /** Stops accepting, lets requests being handled finish, closes every connection. */
  close(): Promise<void> {
    // Once: a second run would close descriptors that by then may be someone else's.
    return this.#closed ??= this.#close();
  }

  async #close(): Promise<void> {
    this.#closing = true;
    clearInterval(this.#timer);
    this.#c.write(this.#wake, new Uint8Array(BigUint64Array.of(1n).buffer), 8n);
    await this.#loop;
    while (this.#inflight.size > 0) await Promise.all(this.#inflight);
    for (const conn of this.#conns.values()) this.#destroy(conn);
    this.#c.close(this.#listener);
    this.#c.close(this.#wake);
    this.#c.close(this.#epoll);
  }

  async #run(): Promise<void> {
    const events = new Uint8Array(c.EPOLL_EVENT_SIZE * MAX_EVENTS);
    const view = new DataView(events.buffer);
    let slice = performance.now();
    while (!this.#closing) {
      // A busy server waits for sockets on this thread, briefly: a wait on the thread pool
      // costs a hand-over between threads each time. Waiting longer goes through the pool so
      // timers and promises run, and so does one wait in every 10 ms of continuous work.
      const yieldNow = performance.now() - slice > 10;
      let n = yieldNow
        ? 0
        : this.#c.epoll_wait(this.#epoll, events, MAX_EVENTS, this.#inflight.size ? 0 : SPIN_MS);
      if (n <= 0) {
        n = await this.#c.epoll_wait_async(this.#epoll, events, MAX_EVENTS, yieldNow ? 0 : -1);
        slice = performance.now();
      }
      this.#now = Date.now();
      for (let i = 0; i < n && !this.#closing; i++) {
        const flags = view.getUint32(i * c.EPOLL_EVENT_SIZE, true);
        const fd = view.getInt32(i * c.EPOLL_EVENT_SIZE + c.EPOLL_DATA_OFFSET, true);
        if (fd === this.#listener) this.#accept();
        else if (fd !== this.#wake) this.#ready(fd, flags);
      }
    }
  }

  #accept(): void {
    for (let i = 0; i < 64; i++) {
      this.#addrLenView.setUint32(0, this.#addr.length, true);
      const flags = c.SOCK_NONBLOCK | c.SOCK_CLOEXEC;
      const fd = this.#c.accept4(this.#listener, this.#addr, this.#addrLen, flags);
      if (fd < 0) {
        const e = c.errno();
        if (e === c.EMFILE || e === c.ENFILE || e === c.ENOBUFS || e === c.ENOMEM) {
          // Out of descriptors: stop asking for a while instead of spinning on the backlog.
          this.#pauseAccepting();
        }
        if (e === c.EAGAIN || e !== c.EINTR) return;
        continue;
      }
      if (this.#conns.size >= this.#o.maxConnections) {
        this.#c.close(fd);
        continue;
      }
      const conn: Conn = {
        fd,
        remote: this.#remoteAddress(),
        pending: null,
        head: null,
        bodyParts: [],
        bodySize: 0,
        chunked: null,
        out: null,
        busy: false,
        closeWhenWritten: false,
        draining: false,
        peerClosed: false,
        closed: false,
        deadline: this.#now + this.#o.requestTimeoutMs,
        events: -1,
      };
      this.#conns.set(fd, conn);
      // The request has usually arrived with the connection: read it before registering.
      this.#readable(conn);
      if (!conn.closed) this.#interest(conn);
    }
  }

  #remoteAddress(): PeerAddress {
    const a = this.#addr;
    const port = (a[2]! << 8) | a[3]!;
    // Consecutive connections tend to come from one address: its text is kept.
    const v4 = a[0] === c.AF_INET;
    const end = v4 ? 8 : 24;
    let same = this.#lastHost !== "" && a[0] === this.#lastAddr[0];
    for (let i = 4; same && i < end; i++) same = a[i] === this.#lastAddr[i];
    if (same) return { hostname: this.#lastHost, port };
    this.#lastAddr.set(a);
    if (v4) {
      this.#lastHost = `${a[4]}.${a[5]}.${a[6]}.${a[7]}`;
    } else {
      // An IPv4 client of a dual-stack socket shows up as ::ffff:a.b.c.d.
      this.#lastHost = formatIp(unmapIPv4(a.subarray(8, 24)));
    }
    return { hostname: this.#lastHost, port };
  }

  #pauseAccepting(): void {
    if (this.#paused) return;
    this.#paused = true;
    this.#watch(this.#listener, c.EPOLL_CTL_MOD, 0);
    setTimeout(() => {
      this.#paused = false;
      if (!this.#closing) this.#watch(this.#listener, c.EPOLL_CTL_MOD, c.EPOLLIN);
    }, 100);
  }

  #ready(fd: number, flags: number): void {
    const conn = this.#conns.get(fd);
    if (!conn) return;
    if (conn.out) this.#writable(conn);
    else if (flags & ~c.EPOLLOUT) this.#readable(conn);
    if (!conn.closed) this.#interest(conn);
  }

  #readable(conn: Conn): void {
    const n = this.#c.recv(conn.fd, this.#read, READ_SIZE, 0);
    if (n > 0) {
      if (conn.draining) return;
      if (!conn.head && !conn.pending) conn.deadline = this.#now + this.#o.requestTimeoutMs;
      const got = this.#read.subarray(0, n);
      const data = conn.pending ? concat([conn.pending, got]) : got;
      conn.pending = null;
      this.#consume(conn, data);
    } else if (n === 0) {
      conn.peerClosed = true;
      if (!conn.busy && !conn.out) this.#destroy(conn);
    } else {
      const e = c.errno();
      if (e !== c.EAGAIN && e !== c.EINTR) this.#destroy(conn);
    }
  }

  /** Frames requests out of `data` and answers them, keeping what is left over. */
  #consume(conn: Conn, data: Uint8Array): void {
    let at = 0;
    while (at < data.length && !conn.busy && !conn.out && !conn.closed && !conn.draining) {
      try {
        if (!conn.head) {
          const head = parseRequestHead(data, at, data.length, this.#o.limits);
          if (!head) break;
          at += head.length;
          if (head.contentLength > this.#o.maxBody) {
            throw new HttpError(413, "request body too large");
          }
          conn.head = head;
          conn.deadline = this.#now + this.#o.requestTimeoutMs;
          if (head.contentLength < 0) conn.chunked = new ChunkedDecoder(this.#o.maxBody);
          if (head.expectContinue && at === data.length) this.#send(conn, CONTINUE);
        }
        const head = conn.head;
        if (conn.chunked) {
          at += conn.chunked.feed(data, at, data.length);
          if (!conn.chunked.done) break;
          conn.bodyParts = conn.chunked.parts;
        } else if (conn.bodySize < head.contentLength) {
          const take = Math.min(head.contentLength - conn.bodySize, data.length - at);
          conn.bodyParts.push(data.slice(at, at + take));
          conn.bodySize += take;
          at += take;
          if (conn.bodySize < head.contentLength) break;
        }
        const body = conn.bodyParts.length === 0 ? EMPTY : concat(conn.bodyParts);
        conn.head = null;
        conn.chunked = null;
        conn.bodyParts = [];
        conn.bodySize = 0;
        // Input pipelined after it: a reply that closes then drains it rather than reset.
        if (at < data.length) conn.pending = data.subarray(at);
        this.#dispatch(conn, head, body);
        conn.pending = null; // set again below (as a copy) when the loop stops here
      } catch (e) {
        this.#refuse(conn, e);
        return;
      }
    }
    if (!conn.closed && !conn.draining && at < data.length) {
      // The read buffer is reused: what stays must be a copy.
      conn.pending = data.buffer === this.#read.buffer ? data.slice(at) : data.subarray(at);
    }
  }

  #dispatch(conn: Conn, head: RequestHead, body: Uint8Array): void {
    let reply: HttpReply | Promise<HttpReply>;
    try {
      reply = this.#o.handler({ head, body, remote: conn.remote });
    } catch (e) {
      this.#o.onError?.(e);
      reply = textReply(500, "internal error\n");
    }
    if (!(reply instanceof Promise)) return this.#reply(conn, head, reply);
    conn.busy = true;
    const done = reply.catch((e) => {
      this.#o.onError?.(e);
      return textReply(500, "internal error\n");
    }).then((r) => {
      conn.busy = false;
      if (conn.closed) return;
      // The loop has been waiting: its clock is as old as the request (Date, deadlines).
      this.#now = Date.now();
      this.#reply(conn, head, r);
      const rest = conn.pending;
      conn.pending = null;
      if (rest && !conn.closed) this.#consume(conn, rest);
      if (!conn.closed && conn.peerClosed && !conn.busy && !conn.out) this.#destroy(conn);
      if (!conn.closed) this.#interest(conn);
    });
    this.#inflight.add(done);
    done.finally(() => this.#inflight.delete(done));
  }

  #reply(conn: Conn, head: Pick<RequestHead, "method" | "keepAlive">, reply: HttpReply): void {
    const keepAlive = head.keepAlive && !conn.peerClosed && !this.#closing;
    const bodyless = head.method === "HEAD" || reply.status === 204 || reply.status === 304;
    const body = bodyless ? EMPTY : reply.body;
    // The head is copied together from cached bytes: no string is built per reply.
    let fields = this.#fieldCache.get(reply.headers);
    if (fields === undefined) {
      fields = encoder.encode(fieldLines(reply.headers));
      this.#fieldCache.set(reply.headers, fields);
    }
    let status = STATUS_LINES.get(reply.status);
    if (status === undefined) {
      status = encoder.encode(statusLine(reply.status));
      STATUS_LINES.set(reply.status, status);
    }
    const date = this.#dateField();
    const tail = keepAlive ? END_OF_HEAD : CLOSE_AND_END;
    const size = status.length + fields.length + date.length + 40 + tail.length + body.length;
    // A big reply (a .torrent download) gets a buffer of its own, not one kept for good.
    if (this.#out.length < size) this.#out = new Uint8Array(size > OUT_KEPT ? size : OUT_KEPT);
    const out = this.#out;
    out.set(status, 0);
    let at = status.length;
    out.set(fields, at);
    at += fields.length;
    out.set(date, at);
    at += date.length;
    // RFC 9110 section 8.6: no Content-Length in a 204; a HEAD reply states the GET's length.
    if (reply.status !== 204) {
      out.set(CONTENT_LENGTH, at);
      at = writeDecimal(out, at + CONTENT_LENGTH.length, reply.body.length);
      out[at++] = 13;
      out[at++] = 10;
    }
    out.set(tail, at);
    at += tail.length;
    out.set(body, at);
    conn.closeWhenWritten = !keepAlive;
    conn.deadline = this.#now + this.#o.idleTimeoutMs;
    this.#send(conn, out.subarray(0, at + body.length));
    if (this.#out.length > OUT_KEPT) this.#out = new Uint8Array(OUT_KEPT);
  }

  /** Answers a request the framing refused, then closes (its remaining input is unread). */
  #refuse(conn: Conn, e: unknown): void {
    const status = e instanceof HttpError ? e.status : 400;
    const message = e instanceof HttpError ? e.message : "bad request";
    conn.head = null;
    conn.chunked = null;
    conn.pending = null;
    // What the client sends after this is unread: drain it once the reply is out.
    conn.draining = true;
    this.#reply(conn, { method: "GET", keepAlive: false }, textReply(status, message + "\n"));
  }

  #send(conn: Conn, bytes: Uint8Array): void {
    if (conn.out) {
      conn.out = concat([conn.out, bytes]);
      return;
    }
    const n = this.#c.send(conn.fd, bytes, BigInt(bytes.length), c.MSG_NOSIGNAL);
    if (n < 0) {
      const e = c.errno();
      if (e !== c.EAGAIN && e !== c.EINTR) return this.#destroy(conn);
    }
    const sent = Math.max(0, n);
    if (sent < bytes.length) {
      conn.out = bytes.slice(sent); // may be the reused reply buffer
      return;
    }
    if (conn.closeWhenWritten) this.#finishConnection(conn);
  }

  #writable(conn: Conn): void {
    const out = conn.out!;
    conn.out = null;
    this.#send(conn, out);
    if (!conn.out && !conn.closed && !conn.closeWhenWritten && conn.pending) {
      const rest = conn.pending;
      conn.pending = null;
      this.#consume(conn, rest);
    }
  }

  /** After the last reply: close, or shut our side and drain what the client still sends. */
  #finishConnection(conn: Conn): void {
    if (!conn.draining && !conn.pending && !conn.head) return this.#destroy(conn);
    // Closing with unread input would reset the connection and could lose the reply.
    this.#c.shutdown(conn.fd, c.SHUT_WR);
    conn.draining = true;
    conn.pending = null;
    conn.deadline = this.#now + DRAIN_MS;
  }

  #interest(conn: Conn): void {
    const want = conn.out ? c.EPOLLOUT : conn.busy || conn.peerClosed ? 0 : c.EPOLLIN;
    if (want === conn.events) return;
    if (want === 0) {
      this.#watch(conn.fd, c.EPOLL_CTL_DEL, 0);
      conn.events = -1;
      return;
    }
    this.#watch(conn.fd, conn.events < 0 ? c.EPOLL_CTL_ADD : c.EPOLL_CTL_MOD, want);
    conn.events = want;
  }

  #watch(fd: number, op: number, events: number): void {
    this.#eventView.setUint32(0, events, true);
    this.#eventView.setInt32(c.EPOLL_DATA_OFFSET, fd, true);
    this.#c.epoll_ctl(this.#epoll, op, fd, this.#event);
  }

  #destroy(conn: Conn): void {
    if (conn.closed) return;
    conn.closed = true;
    conn.pending = null;
    conn.out = null;
    this.#conns.delete(conn.fd);
    this.#c.close(conn.fd); // also takes it out of the epoll set
  }

  /** Closes connections past their deadline: stalled requests, idle keep-alives, drains. */
  #expire(): void {
    const now = Date.now();
    for (const conn of this.#conns.values()) {
      if (!conn.busy && conn.deadline < now) this.#destroy(conn);
    }
  }

  /** `date: <IMF-fixdate>`, re-encoded once a second. */
  #dateField(): Uint8Array {
    const second = Math.floor(this.#now / 1000);
    if (second !== this.#dateSecond) {
      this.#dateSecond = second;
      const date = new Date(second * 1000).toUTCString();
      this.#date = encoder.encode(`date: ${date}\r\n`);
    }
    return this.#date;
  }
}

const STATUS_LINES = new Map<number, Uint8Array>();
const CONTENT_LENGTH = encoder.encode("content-length: ");
const END_OF_HEAD = encoder.encode("\r\n");
const CLOSE_AND_END = encoder.encode("connection: close\r\n\r\n");
/** Size of the reply buffer kept between replies. */
const OUT_KEPT = 64 * 1024;
const EMPTY = new Uint8Array(0);
const TEXT_HEADERS: [string, string][] = [["content-type", "text/plain; charset=utf-8"]];

/** A plain-text reply. */
export function textReply(status: number, text: string): HttpReply {
  return { status, headers: TEXT_HEADERS, body: encoder.encode(text) };
}
