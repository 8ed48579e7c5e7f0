/**
 * The HTTP tracker (BEP 3, 7, 23, 48) with content discovery and peer health checks, over a
 * transport-free core that other transports (UDP) can share.
 * @module
 */
export { createTrackerApp, type TrackerApp, type TrackerEnv, type TrackerOptions } from "./app.ts";
export {
  type AnnounceParams,
  type AnnounceSource,
  createTrackerCore,
  DEFAULT_NUMWANT,
  MAX_NUMWANT,
  MAX_SCRAPE_ALL,
  TrackerCore,
  type TrackerCoreOptions,
  type TrackerStats,
} from "./core.ts";
export { httpAnnounce, httpScrape, MAX_QUERY_BYTES } from "./http.ts";
export { type RunningTracker, type ServeOptions, startTracker } from "./serve.ts";
export { TrackerError, TrackerRequestError } from "../protocol/errors.ts";
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
} from "./store/store.ts";
export { handshakePeer, type HealthCheckOptions, PeerHealthChecker } from "./health.ts";
export {
  type AnnounceRequest,
  parseAnnounce,
  parseScrape,
  percentDecodeBinary,
} from "../protocol/http_query.ts";
export { formatIp, parseIp } from "../../util/ip.ts";
