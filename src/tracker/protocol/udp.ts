/**
 * The UDP tracker protocol (BEP 15) with its announce options (BEP 41), both directions, as
 * pure functions over bytes: no sockets, no clocks. All integers are big-endian.
 *
 * - Client: `encodeConnectRequest`, `encodeAnnounceRequest`, `encodeScrapeRequest`, then
 *   `parseUdpResponse` on what comes back.
 * - Server: `parseUdpRequest` on every datagram, then `encodeConnectResponse`,
 *   `encodeAnnounceResponse` (or `writeAnnounceResponse` / `writeAnnounceResponseHeader` into a
 *   reused buffer), `encodeScrapeResponse` or `encodeErrorResponse`.
 *
 * Connection ids are a `bigint` on the client (rare, and handy to store) and two u32 halves on
 * the server, which checks one on every announce (see `UdpConnectionIdHalves`). 64-bit byte
 * counters are numbers; the server clamps values from 2^53 up to `Number.MAX_SAFE_INTEGER`.
 * @module
 */
export {
  ANNOUNCE_REQUEST_SIZE,
  ANNOUNCE_RESPONSE_HEADER_SIZE,
  MAX_SCRAPE_HASHES,
  UDP_ACTIONS,
  UDP_EVENTS,
  UDP_PROTOCOL_ID,
  type UdpActionName,
} from "./udp_wire.ts";
export {
  encodeAnnounceRequest,
  encodeConnectRequest,
  encodeScrapeRequest,
  parseUdpRequest,
  type UdpAnnounceRequest,
  type UdpAnnounceRequestFields,
  type UdpConnectionIdHalves,
  type UdpConnectRequest,
  type UdpInvalidRequest,
  type UdpRequest,
  type UdpRequestProblem,
  type UdpScrapeRequest,
} from "./udp_request.ts";
export {
  encodeAnnounceResponse,
  encodeConnectResponse,
  encodeErrorResponse,
  encodeScrapeResponse,
  parseUdpResponse,
  type UdpAnnounceResponse,
  type UdpAnnounceResponseFields,
  type UdpAnnounceResponseHeader,
  type UdpConnectResponse,
  type UdpErrorResponse,
  type UdpResponse,
  type UdpResponseExpectation,
  type UdpScrapeCounts,
  type UdpScrapeResponse,
  writeAnnounceResponse,
  writeAnnounceResponseHeader,
} from "./udp_response.ts";
