import { toBinary } from "../../../src/util/bytes.ts";
import { createTrackerApp, type TrackerOptions } from "../../../src/tracker/server/mod.ts";

/** Percent-encodes every byte (what libtorrent does for non-alphanumerics). */
export function pct(bytes: Uint8Array | string): string {
  const b = typeof bytes === "string" ? Uint8Array.from(bytes, (c) => c.charCodeAt(0)) : bytes;
  return [...b].map((x) => "%" + x.toString(16).padStart(2, "0")).join("");
}

export const HASH_A = Uint8Array.from({ length: 20 }, (_, i) => 0x80 + i); // not valid UTF-8
export const HASH_B = Uint8Array.from({ length: 20 }, (_, i) => i);

export function peerId(tag: string): string {
  return `-TT0001-${tag.padStart(12, "0")}`;
}

/** A tracker app whose clock the test drives; closes its timers with `using`-free `close`. */
export async function testTracker(options: TrackerOptions = {}) {
  let clock = 1_000_000;
  const t = await createTrackerApp({ now: () => clock, ...options });
  return {
    ...t,
    advance(ms: number) {
      clock += ms;
    },
    async get(path: string, from = "10.0.0.1", headers: Record<string, string> = {}) {
      const res = await t.app.request(path, { headers }, { remoteAddr: { hostname: from } });
      return { status: res.status, body: new Uint8Array(await res.arrayBuffer()), res };
    },
  };
}

export function announcePath(o: {
  hash?: Uint8Array;
  id: string;
  port: number;
  left?: number;
  extra?: string;
}): string {
  return `/announce?info_hash=${pct(o.hash ?? HASH_A)}&peer_id=${o.id}&port=${o.port}` +
    `&uploaded=0&downloaded=0&left=${o.left ?? 100}${o.extra ?? ""}`;
}

/** Bytes as a binary string (one char per byte), like the tracker's keys. */
export const text = (b: Uint8Array) => toBinary(b);
export const bytes = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
