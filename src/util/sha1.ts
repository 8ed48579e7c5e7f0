import { createHash } from "node:crypto";

/**
 * SHA-1 via node:crypto (native, OpenSSL). Measured ~6x faster than pure-JS hashing on
 * this machine, and it hashes synchronously, which keeps the piece pipeline simple.
 */
export function sha1(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha1").update(data).digest());
}
