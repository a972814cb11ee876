export interface NetworkOptions {
  /** Chain id; part of every topic and protocol id so nodes of different chains never exchange messages. */
  chainId: bigint | number;
  /** Directory for the peer key (`peer-key`) and the persistent peer store (`peerstore/`); none = in memory. */
  dataDir: string | undefined;
  /** Multiaddrs to listen on. */
  listenAddresses: string[];
  /** Multiaddrs (with /p2p/<peer id>) dialled at start and re-dialled while disconnected. */
  bootnodes: string[];
  /** How often disconnected bootnodes are re-dialled. */
  bootnodeRedialMs: number;
  /** Inbound gossip waiting for validation, per topic; the oldest is dropped (and counted) beyond this. */
  gossipQueueCapacity: number;
  /** Largest gossip message accepted or published. */
  maxGossipBytes: number;
  /** Largest req/resp request and response. */
  maxRequestBytes: number;
  maxResponseBytes: number;
  requestTimeoutMs: number;
  /** Inbound requests being served at once, per protocol (more are refused with RESOURCE_UNAVAILABLE). */
  maxConcurrentRequests: number;
}

export const defaultNetworkOptions: NetworkOptions = {
  chainId: 8888,
  dataDir: undefined,
  listenAddresses: ["/ip4/0.0.0.0/tcp/26656"],
  bootnodes: [],
  bootnodeRedialMs: 5_000,
  gossipQueueCapacity: 4096,
  maxGossipBytes: 4 * 1024 * 1024,
  maxRequestBytes: 64 * 1024,
  maxResponseBytes: 32 * 1024 * 1024,
  requestTimeoutMs: 10_000,
  maxConcurrentRequests: 32,
};
