import type { BDict, BList, BValue } from "./types.ts";

// Type guards: each layer raises its own typed error (with the field name) on a mismatch.

export function isBytes(v: BValue | undefined): v is Uint8Array {
  return v instanceof Uint8Array;
}

export function isInt(v: BValue | undefined): v is number | bigint {
  return typeof v === "number" || typeof v === "bigint";
}

export function isList(v: BValue | undefined): v is BList {
  return Array.isArray(v);
}

export function isDict(v: BValue | undefined): v is BDict {
  return v instanceof Map;
}
