/**
 * The announce vocabulary both sides of every tracker transport (HTTP, UDP) share.
 * @module
 */

/**
 * BEP 3's announce events plus BEP 21's `paused` (a partial seed that wants no more data). A
 * regular, periodic announce has no event: `undefined`.
 */
export type AnnounceEvent = "started" | "completed" | "stopped" | "paused";
