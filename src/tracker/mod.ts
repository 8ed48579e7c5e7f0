/**
 * The HTTP tracker (BEP 3, 7, 23, 48) with content discovery and peer health checks.
 * @module
 */
export { createTrackerApp, type TrackerApp, type TrackerEnv, type TrackerOptions } from "./app.ts";
export { type RunningTracker, type ServeOptions, startTracker } from "./server.ts";
export { TrackerError, TrackerRequestError } from "./errors.ts";
export { type CatalogEntry, PublishError, TorrentCatalog } from "./catalog.ts";
export {
  type AnnounceOutcome,
  type MemoryStoreOptions,
  MemorySwarmStore,
  type PeerAnnounce,
  type PeerRecord,
  type PeerSample,
  type StoreTotals,
  type SwarmCounts,
  type SwarmStore,
} from "./store.ts";
export { handshakePeer, type HealthCheckOptions, PeerHealthChecker } from "./health.ts";
export { type AnnounceRequest, parseAnnounce, parseScrape, percentDecodeBinary } from "./query.ts";
export { formatIp, parseIp } from "./ip.ts";
