/**
 * HTTP/1.1 message framing (RFC 9112) for the tracker's epoll server: request heads, chunked
 * bodies and response heads. Pure functions over bytes; the socket loop is in epoll_server.ts.
 * Only what a tracker needs: origin-form targets, Content-Length or chunked request bodies,
 * responses always with Content-Length.
 */
import { toBinary } from "../../util/bytes.ts";

/** A request the server answers with `status` and closes, e.g. 400, 413, 414, 431, 505. */
export class HttpError extends Error {
  override name = "HttpError";
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export interface RequestHead {
  method: string;
  /** The request target as sent, from the first "/" (absolute-form is cut down to it). */
  target: string;
  /** 1 for HTTP/1.1, 0 for HTTP/1.0. */
  minor: 0 | 1;
  /** Header fields in order, names in lower case (decoded on first use). */
  readonly headers: [string, string][];
  /** Whether the connection stays open after the reply (RFC 9112 section 9.3). */
  keepAlive: boolean;
  /** Body bytes declared by Content-Length; 0 without a body, -1 when chunked. */
  contentLength: number;
  /** `Expect: 100-continue`: the client waits for an interim reply before the body. */
  expectContinue: boolean;
  /** Bytes of the head, final empty line included. */
  length: number;
}

export interface HeadLimits {
  /** Longest request line; HTTP 414 above. */
  maxRequestLine: number;
  /** Longest head, request line included; HTTP 431 above. */
  maxHead: number;
}

const LF = 10;
const CR = 13;
const SP = 32;
const HTAB = 9;
const COLON = 58;

/** tchar (RFC 9110 section 5.6.2): the bytes of methods and field names. */
const TCHAR = new Uint8Array(256);
for (const ch of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") {
  TCHAR[ch.charCodeAt(0)] = 1;
}

/**
 * Where the head starting at `start` ends (the index after its empty line), or -1 when it is
 * not complete in `buf[start, end)`. Bare LF line ends are accepted, as RFC 9112 allows.
 */
export function headEnd(buf: Uint8Array, start: number, end: number): number {
  for (let i = buf.indexOf(LF, start); i >= 0 && i < end; i = buf.indexOf(LF, i + 1)) {
    if (i + 1 < end && buf[i + 1] === LF) return i + 2;
    if (i + 2 < end && buf[i + 1] === CR && buf[i + 2] === LF) return i + 3;
  }
  return -1;
}

/** A parsed head; its field lines stay one string until someone asks for them. */
class ParsedHead implements RequestHead {
  #fields: string | null;
  #headers: [string, string][] | null = null;

  constructor(
    readonly method: string,
    readonly target: string,
    readonly minor: 0 | 1,
    fields: string,
    readonly keepAlive: boolean,
    readonly contentLength: number,
    readonly expectContinue: boolean,
    readonly length: number,
  ) {
    this.#fields = fields;
  }

  get headers(): [string, string][] {
    if (this.#headers === null) {
      // Lines already checked by scanField: name, colon, value.
      const headers: [string, string][] = [];
      for (const line of this.#fields!.split("\n")) {
        const colon = line.indexOf(":");
        if (colon <= 0) continue; // the empty line
        const name = line.slice(0, colon).toLowerCase();
        headers.push([name, line.slice(colon + 1).replace(OWS_AND_CR, "")]);
      }
      this.#headers = headers;
      this.#fields = null;
    }
    return this.#headers;
  }
}

const OWS_AND_CR = /^[ \t]+|[ \t\r]+$/g;

/** The field line {@link scanField} found: name [0, 1) and value [2, 3) as buffer indices. */
const FIELD = new Int32Array(4);

/**
 * Scans the field line at `buf[i, end)` into FIELD and returns the index after it, or -1 at
 * the head's empty line. Throws HttpError 400 on a malformed line: whitespace before the
 * colon, obsolete line folding, control characters.
 */
function scanField(buf: Uint8Array, i: number, end: number): number {
  let lineEnd = buf.indexOf(LF, i);
  if (lineEnd < 0 || lineEnd >= end) lineEnd = end;
  const stop = lineEnd > i && buf[lineEnd - 1] === CR ? lineEnd - 1 : lineEnd;
  if (stop === i) return -1;
  let k = i;
  while (k < stop && TCHAR[buf[k]!] === 1) k++;
  if (k === i || k === stop || buf[k] !== COLON) throw new HttpError(400, "malformed header line");
  let v0 = k + 1;
  let v1 = stop;
  while (v0 < v1 && (buf[v0] === SP || buf[v0] === HTAB)) v0++;
  while (v1 > v0 && (buf[v1 - 1] === SP || buf[v1 - 1] === HTAB)) v1--;
  for (let j = v0; j < v1; j++) {
    const b = buf[j]!;
    if ((b < SP && b !== HTAB) || b === 127) throw new HttpError(400, "bad header value");
  }
  FIELD[0] = i;
  FIELD[1] = k;
  FIELD[2] = v0;
  FIELD[3] = v1;
  return lineEnd + 1;
}

const ascii = new TextDecoder();

/** `buf[start, end)` as text, bytes as ISO-8859-1 (how HTTP/1.1 field values are defined). */
function text(buf: Uint8Array, start: number, end: number): string {
  for (let i = start; i < end; i++) {
    if (buf[i]! >= 128) return toBinary(buf.subarray(start, end));
  }
  return ascii.decode(buf.subarray(start, end));
}

/** Whether `buf[start, end)` is `name`, ignoring ASCII case (`name` is lower case). */
function fieldIs(buf: Uint8Array, start: number, end: number, name: string): boolean {
  if (end - start !== name.length) return false;
  for (let i = 0; i < name.length; i++) {
    if ((buf[start + i]! | 0x20) !== name.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * Parses the request head at `buf[start, end)`: undefined while it is incomplete (and within
 * the limits), throws HttpError when it is malformed or too large.
 */
export function parseRequestHead(
  buf: Uint8Array,
  start: number,
  end: number,
  limits: HeadLimits,
): RequestHead | undefined {
  const first = start;
  // RFC 9112 section 2.2: empty lines before a request line are ignored.
  while (start < end && (buf[start] === CR || buf[start] === LF)) start++;
  let lineEnd = buf.indexOf(LF, start);
  if (lineEnd >= end) lineEnd = -1;
  if ((lineEnd < 0 ? end - start : lineEnd - start) > limits.maxRequestLine) {
    throw new HttpError(414, "request line too long");
  }
  const stop = lineEnd < 0 ? -1 : headEnd(buf, lineEnd, end);
  // The empty lines count too: otherwise an endless run of them would all be kept.
  if (stop < 0 || stop - first > limits.maxHead) {
    if (stop < 0 && end - first <= limits.maxHead) return undefined;
    throw new HttpError(431, "request head too large");
  }
  // request-line = method SP request-target SP HTTP-version
  const lineStop = buf[lineEnd - 1] === CR ? lineEnd - 1 : lineEnd;
  const isGet = buf[start] === 71 && buf[start + 1] === 69 && buf[start + 2] === 84;
  let i = isGet ? start + 3 : start;
  while (TCHAR[buf[i]!] === 1) i++;
  const methodEnd = i;
  if (methodEnd === start || buf[i++] !== SP) throw new HttpError(400, "malformed request line");
  const targetStart = i;
  // Visible ASCII only (RFC 3986): anything else, bytes >= 0x80 included, is refused.
  while (buf[i]! > SP && buf[i]! < 127) i++;
  const targetEnd = i;
  if (targetEnd === targetStart || buf[i] !== SP || targetEnd >= lineStop) {
    throw new HttpError(400, "malformed request line");
  }
  const minor = httpVersion(buf, targetEnd + 1, lineStop);
  const method = isGet && methodEnd === start + 3
    ? "GET"
    : ascii.decode(buf.subarray(start, methodEnd));
  const raw = ascii.decode(buf.subarray(targetStart, targetEnd));
  const target = originForm(raw);

  let contentLength = 0;
  let lengthSeen = false;
  let chunked = false;
  let close = false;
  let keepAliveToken = false;
  let expectContinue = false;
  for (let i = lineEnd + 1; (i = scanField(buf, i, stop)) >= 0;) {
    const n0 = FIELD[0]!, n1 = FIELD[1]!, v0 = FIELD[2]!, v1 = FIELD[3]!;
    // Only the fields that frame the message are looked at here (by length first).
    const n = n1 - n0;
    if (n === 14 && fieldIs(buf, n0, n1, "content-length")) {
      const value = text(buf, v0, v1);
      if (!/^\d{1,15}$/.test(value)) throw new HttpError(400, "bad Content-Length");
      const length = Number(value);
      if (lengthSeen && length !== contentLength) {
        throw new HttpError(400, "conflicting Content-Length");
      }
      contentLength = length;
      lengthSeen = true;
    } else if (n === 17 && fieldIs(buf, n0, n1, "transfer-encoding")) {
      // Only plain chunked: compressed request bodies are not something a tracker is sent.
      if (chunked || text(buf, v0, v1).toLowerCase() !== "chunked") {
        throw new HttpError(501, "unsupported Transfer-Encoding");
      }
      chunked = true;
    } else if (n === 10 && fieldIs(buf, n0, n1, "connection")) {
      for (const token of text(buf, v0, v1).toLowerCase().split(",")) {
        const t = token.trim();
        if (t === "close") close = true;
        else if (t === "keep-alive") keepAliveToken = true;
      }
    } else if (n === 6 && fieldIs(buf, n0, n1, "expect")) {
      if (text(buf, v0, v1).toLowerCase() !== "100-continue") {
        throw new HttpError(417, "unsupported Expect");
      }
      expectContinue = minor === 1;
    }
  }
  // Both framings at once is how requests are smuggled past proxies (section 6.1).
  if (chunked && lengthSeen) throw new HttpError(400, "both Content-Length and chunked");
  return new ParsedHead(
    method,
    target,
    minor,
    text(buf, lineEnd + 1, stop),
    minor === 1 ? !close : keepAliveToken && !close,
    chunked ? -1 : contentLength,
    expectContinue && (chunked || contentLength > 0),
    stop - first,
  );
}

const HTTP_1 = "HTTP/1.";

/** `HTTP/1.1` or `HTTP/1.0` at `buf[at, end)`; 505 for other versions, 400 for junk. */
function httpVersion(buf: Uint8Array, at: number, end: number): 0 | 1 {
  let prefix = end - at === 8;
  for (let i = 0; prefix && i < 7; i++) prefix = buf[at + i] === HTTP_1.charCodeAt(i);
  if (prefix && buf[at + 7] === 49) return 1;
  if (prefix && buf[at + 7] === 48) return 0;
  if (/^HTTP\/\d\.\d$/.test(text(buf, at, end))) {
    throw new HttpError(505, "HTTP version not supported");
  }
  throw new HttpError(400, "malformed request line");
}

/** The path-and-query of a target; absolute-form (`http://host/path`) is accepted too. */
function originForm(target: string): string {
  if (target.charCodeAt(0) === 47) return target;
  const scheme = /^https?:\/\/[^/?#]*/i.exec(target);
  if (scheme) {
    const rest = target.slice(scheme[0].length);
    return rest.startsWith("/") ? rest : "/" + rest;
  }
  throw new HttpError(400, "malformed request target");
}

function trimCr(line: string): string {
  return line.endsWith("\r") ? line.slice(0, -1) : line;
}

/**
 * Decodes a chunked request body (RFC 9112 section 7.1) fed in pieces, refusing more than
 * `limit` body bytes (HTTP 413) and chunk-size lines or trailers beyond 8 KiB (HTTP 400).
 */
export class ChunkedDecoder {
  readonly parts: Uint8Array[] = [];
  size = 0;
  done = false;
  #state: "size" | "data" | "dataEnd" | "trailer" = "size";
  #line = "";
  #left = 0;

  constructor(readonly limit: number) {}

  /** Consumes bytes of `buf[start, end)`; returns how many belonged to the body. */
  feed(buf: Uint8Array, start: number, end: number): number {
    let i = start;
    while (i < end && !this.done) {
      if (this.#state === "data") {
        const n = Math.min(this.#left, end - i);
        this.parts.push(buf.slice(i, i + n));
        i += n;
        this.#left -= n;
        if (this.#left === 0) this.#state = "dataEnd";
        continue;
      }
      const c = buf[i++]!;
      if (c !== LF) {
        this.#line += String.fromCharCode(c);
        if (this.#line.length > 8192) throw new HttpError(400, "chunk line too long");
        continue;
      }
      const line = trimCr(this.#line);
      this.#line = "";
      if (this.#state === "dataEnd") {
        if (line !== "") throw new HttpError(400, "malformed chunk");
        this.#state = "size";
      } else if (this.#state === "size") {
        const m = /^([0-9a-fA-F]{1,12})[ \t]*(;.*)?$/.exec(line);
        if (!m) throw new HttpError(400, "malformed chunk size");
        const n = parseInt(m[1]!, 16);
        if (this.size + n > this.limit) throw new HttpError(413, "request body too large");
        this.size += n;
        this.#left = n;
        this.#state = n === 0 ? "trailer" : "data";
      } else if (line === "") {
        this.done = true; // the empty line after the (ignored) trailer fields
      }
    }
    return i - start;
  }
}

const REASONS: Record<number, string> = {
  100: "Continue",
  200: "OK",
  201: "Created",
  204: "No Content",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  411: "Length Required",
  413: "Content Too Large",
  414: "URI Too Long",
  417: "Expectation Failed",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  503: "Service Unavailable",
  505: "HTTP Version Not Supported",
};

/** The reason phrase sent for a status (clients ignore it; people reading traces do not). */
export function reasonPhrase(status: number): string {
  return REASONS[status] ?? "Unknown";
}

/** `HTTP/1.1 <status> <reason>` and its line end. */
export function statusLine(status: number): string {
  return `HTTP/1.1 ${status} ${reasonPhrase(status)}\r\n`;
}

/**
 * Response field lines, minus the framing fields (Content-Length, Transfer-Encoding,
 * Connection, Date) the server writes itself. Fields with CR or LF in them are
 * dropped rather than let split the head.
 */
export function fieldLines(headers: Iterable<[string, string]>): string {
  let lines = "";
  for (const [name, value] of headers) {
    const n = name.toLowerCase();
    if (n === "content-length" || n === "transfer-encoding" || n === "connection") continue;
    if (n === "date" || /[\r\n]/.test(name + value)) continue;
    lines += `${name}: ${value}\r\n`;
  }
  return lines;
}
