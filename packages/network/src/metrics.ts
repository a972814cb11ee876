import { Counter, Gauge, type Registry } from "@zgnode/utils";

export type NetworkMetrics = ReturnType<typeof createNetworkMetrics>;

/** Network metrics; names carry their unit suffix. Register once per registry. */
export function createNetworkMetrics(registry: Registry) {
  const registers = [registry];
  return {
    peers: new Gauge({ name: "zgnode_network_peers", help: "Connected peers", registers }),
    gossipReceived: new Counter({
      name: "zgnode_network_gossip_received_total",
      help: "Gossip messages received, by topic and validation result",
      labelNames: ["topic", "result"] as const,
      registers,
    }),
    gossipPublished: new Counter({
      name: "zgnode_network_gossip_published_total",
      help: "Gossip messages published, by topic",
      labelNames: ["topic"] as const,
      registers,
    }),
    gossipQueueDropped: new Counter({
      name: "zgnode_network_gossip_queue_dropped_total",
      help: "Inbound gossip dropped because the topic's validation queue was full",
      labelNames: ["topic"] as const,
      registers,
    }),
    gossipQueueLength: new Gauge({
      name: "zgnode_network_gossip_queue_length",
      help: "Inbound gossip waiting for validation",
      labelNames: ["topic"] as const,
      registers,
    }),
    requests: new Counter({
      name: "zgnode_network_reqresp_requests_total",
      help: "Req/resp requests, by protocol, direction and result",
      labelNames: ["protocol", "direction", "result"] as const,
      registers,
    }),
    batchedItems: new Counter({
      name: "zgnode_network_gossip_batched_items_total",
      help: "Items sent inside gossip batches, by topic",
      labelNames: ["topic"] as const,
      registers,
    }),
  };
}
