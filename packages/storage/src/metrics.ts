import { Counter, Gauge, Histogram, type Registry } from "@zgnode/utils";

export interface StorageMetrics {
  segmentsWritten: Counter;
  bytesWritten: Counter;
  segmentsRead: Counter;
  bytesRead: Counter;
  corruptReads: Counter;
  commitGroupSeconds: Histogram;
  liveBytes: Gauge;
  recoveredRecords: Counter;
  truncatedBytes: Counter;
}

/** Segment store metrics, registered in the node's registry. */
export function createStorageMetrics(registry: Registry): StorageMetrics {
  const registers = [registry];
  return {
    segmentsWritten: new Counter({ name: "zgnode_storage_segments_written_total", help: "Segments appended", registers }),
    bytesWritten: new Counter({ name: "zgnode_storage_bytes_written_total", help: "Segment payload bytes appended", registers }),
    segmentsRead: new Counter({ name: "zgnode_storage_segments_read_total", help: "Segments read", registers }),
    bytesRead: new Counter({ name: "zgnode_storage_bytes_read_total", help: "Segment payload bytes read", registers }),
    corruptReads: new Counter({
      name: "zgnode_storage_corrupt_reads_total",
      help: "Reads refused for a bad checksum",
      registers,
    }),
    commitGroupSeconds: new Histogram({
      name: "zgnode_storage_commit_group_seconds",
      help: "Time to write, sync and index one commit group",
      buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1],
      registers,
    }),
    liveBytes: new Gauge({ name: "zgnode_storage_live_bytes", help: "Payload bytes of indexed segments", registers }),
    recoveredRecords: new Counter({
      name: "zgnode_storage_recovered_records_total",
      help: "Records re-indexed on open",
      registers,
    }),
    truncatedBytes: new Counter({ name: "zgnode_storage_truncated_bytes_total", help: "Torn tail bytes cut on open", registers }),
  };
}
