import assert from "node:assert/strict";
import {
  BencodeError,
  type BValue,
  decode,
  decodeWithSpans,
  encode,
} from "../../src/bencode/mod.ts";
import { toBinary, utf8Bytes } from "../../src/util/bytes.ts";

const b = (s: string) => utf8Bytes(s);
const bin = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

function errorAt(input: Uint8Array, offset: number, pattern: RegExp) {
  assert.throws(() => decode(input), (e: unknown) => {
    assert.ok(e instanceof BencodeError, `expected BencodeError, got ${e}`);
    assert.equal(e.offset, offset, e.message);
    assert.match(e.message, pattern);
    return true;
  });
}

Deno.test("decodes the BEP 3 examples", () => {
  assert.deepEqual(decode(b("4:spam")), b("spam"));
  assert.equal(decode(b("i3e")), 3);
  assert.equal(decode(b("i-3e")), -3);
  assert.equal(decode(b("i0e")), 0);
  assert.deepEqual(decode(b("l4:spam4:eggse")), [b("spam"), b("eggs")]);
  assert.deepEqual(
    decode(b("d3:cow3:moo4:spam4:eggse")),
    new Map([["cow", b("moo")], ["spam", b("eggs")]]),
  );
  assert.deepEqual(
    decode(b("d4:spaml1:a1:bee")),
    new Map([["spam", [b("a"), b("b")]]]),
  );
  assert.deepEqual(decode(b("0:")), new Uint8Array());
  assert.deepEqual(decode(b("de")), new Map());
  assert.deepEqual(decode(b("le")), []);
});

Deno.test("byte strings stay bytes, including invalid UTF-8 and NUL", () => {
  const raw = bin("4:\xff\x00\xfe\x80");
  assert.deepEqual(decode(raw), new Uint8Array([0xff, 0x00, 0xfe, 0x80]));
  const dict = decode(bin("d2:\xff\x01i1ee")) as Map<string, BValue>;
  assert.equal([...dict.keys()][0], "\xff\x01");
  assert.deepEqual(encode(dict), bin("d2:\xff\x01i1ee"));
});

Deno.test("integers beyond 2^53 decode as bigint and round-trip", () => {
  assert.equal(decode(b("i9007199254740991e")), 9007199254740991);
  assert.equal(decode(b("i9007199254740993e")), 9007199254740993n);
  assert.equal(decode(b("i-99999999999999999999e")), -99999999999999999999n);
  assert.deepEqual(encode(9007199254740993n), b("i9007199254740993e"));
});

Deno.test("rejects malformed integers with the offset", () => {
  errorAt(b("i03e"), 0, /leading zero/);
  errorAt(b("i-0e"), 0, /negative zero/);
  errorAt(b("ie"), 0, /empty integer/);
  errorAt(b("i-e"), 0, /empty integer/);
  errorAt(b("i1x2e"), 2, /non-digit/);
  errorAt(b("i12"), 0, /unterminated/);
  errorAt(b("i+1e"), 1, /non-digit/);
});

Deno.test("rejects truncated input and trailing bytes", () => {
  errorAt(b("4:spa"), 0, /exceeds/);
  errorAt(b("l4:spam"), 7, /end of input/);
  errorAt(b("d3:cow"), 6, /end of input/);
  errorAt(b(""), 0, /end of input/);
  errorAt(b("i1ei2e"), 3, /trailing/);
  errorAt(b("4"), 1, /end of input/);
  errorAt(b("x"), 0, /unexpected byte 0x78/);
});

Deno.test("a huge length prefix is rejected before any allocation", () => {
  errorAt(b("999999999999:abc"), 0, /exceeds the 3 bytes left/);
  errorAt(b("99999999999999999999:"), 0, /too long/);
  errorAt(b("l999999999999:e"), 1, /exceeds/);
});

Deno.test("deep nesting is an error, not a stack overflow", () => {
  const deep = b("l".repeat(100_000) + "e".repeat(100_000));
  errorAt(deep, 256, /nesting deeper than 256/);
  assert.deepEqual(decode(b("lllleeee")), [[[[]]]]);
  assert.throws(() => decode(b("llee"), { maxDepth: 1 }), BencodeError);
});

Deno.test("dictionaries: duplicate keys rejected, unsorted accepted, non-string keys rejected", () => {
  errorAt(b("d1:ai1e1:ai2ee"), 7, /duplicate dictionary key "a"/);
  const unsorted = decode(b("d1:bi1e1:ai2ee")) as Map<string, BValue>;
  assert.deepEqual([...unsorted.keys()], ["b", "a"]);
  // The encoder always writes canonical (sorted) order.
  assert.deepEqual(encode(unsorted), b("d1:ai2e1:bi1ee"));
  errorAt(b("di1ei2ee"), 1, /key is not a byte string/);
});

Deno.test("encoder sorts keys by raw bytes and encodes JS conveniences", () => {
  assert.deepEqual(
    encode({ zeta: 1, alpha: "x", list: [1, "a", new Uint8Array([0])], skipped: undefined }),
    b("d5:alpha1:x4:listli1e1:a1:\0e4:zetai1ee"),
  );
  // Byte order, not locale order: "B" (0x42) sorts before "a" (0x61).
  assert.deepEqual(encode({ a: 1, B: 2 }), b("d1:Bi2e1:ai1ee"));
  // Non-ASCII text keys are UTF-8 and compared as bytes.
  assert.deepEqual(encode({ "é": 1, z: 2 }), b("d1:zi2e2:éi1ee"));
  assert.throws(() => encode(1.5), BencodeError);
  assert.throws(() => encode(null as unknown as BValue), BencodeError);
});

Deno.test("spans give the exact bytes of nested values", () => {
  const input = b("d8:announce3:url4:infod6:lengthi5e4:name1:xe5:otherl1:aee");
  const { value, spans } = decodeWithSpans(input);
  const info = (value as Map<string, BValue>).get("info") as object;
  const span = spans.get(info)!;
  assert.equal(toBinary(input.subarray(span.start, span.end)), "d6:lengthi5e4:name1:xe");
  const other = (value as Map<string, BValue>).get("other") as object;
  const o = spans.get(other)!;
  assert.equal(toBinary(input.subarray(o.start, o.end)), "l1:ae");
  assert.deepEqual(spans.get(value as object), { start: 0, end: input.length });
});

Deno.test("decode(encode(x)) round-trips random values", () => {
  let seed = 42;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const gen = (depth: number): BValue => {
    const kind = depth > 3 ? rand(2) : rand(4);
    if (kind === 0) return rand(1000) - 500;
    if (kind === 1) return Uint8Array.from({ length: rand(8) }, () => rand(256));
    if (kind === 2) return Array.from({ length: rand(4) }, () => gen(depth + 1));
    const m = new Map<string, BValue>();
    for (let i = rand(4); i > 0; i--) {
      m.set(String.fromCharCode(rand(256), rand(256)), gen(depth + 1));
    }
    return new Map([...m].sort(([a], [c]) => (a < c ? -1 : 1)));
  };
  for (let i = 0; i < 500; i++) {
    const v = gen(0);
    const encoded = encode(v);
    assert.deepEqual(decode(encoded), v);
    assert.deepEqual(encode(decode(encoded)), encoded);
  }
});
