export { GossipBatcher } from "./batcher.ts";
export { NetworkErrorCode } from "./errors.ts";
export { NetworkHost } from "./host.ts";
export { createNetworkMetrics, type NetworkMetrics } from "./metrics.ts";
export { defaultNetworkOptions, type NetworkOptions } from "./options.ts";
export { loadOrCreatePeerKey } from "./peerKey.ts";
export {
  type AnyGossipTopic,
  type AnyReqRespProtocol,
  bytesCodec,
  type Codec,
  type GossipTopic,
  type GossipVerdict,
  listCodec,
  protocolId,
  type ReqRespProtocol,
  ResponseStatus,
} from "./protocols.ts";
