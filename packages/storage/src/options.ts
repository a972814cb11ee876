/**
 * When appended segment data is forced to stable storage:
 * - `always`: every commit group is fdatasync'ed before its writes resolve (survives power loss);
 * - `interval`: writes resolve once in the OS page cache (survive a process crash) and a timer syncs every
 *   `syncIntervalMs` (a power loss may drop up to that window);
 * - `never`: the OS decides (tests, scratch nodes).
 */
export type FsyncPolicy = "always" | "interval" | "never";

export interface SegmentStoreOptions {
  /** Directory holding the data files and the index. */
  dir: string;
  fsync: FsyncPolicy;
  syncIntervalMs: number;
  /** A data file is closed for appends once it reaches this size and a new one starts. */
  maxDataFileBytes: number;
  /** Upper bound on bytes gathered into one commit group (one write + one sync + one index batch). */
  maxGroupBytes: number;
  /**
   * Fault-injection points for crash tests only: `midAppend` runs after half of a commit group's bytes reached
   * the data file, `afterAppend` after all of them but before the index write. Production code leaves these unset.
   */
  testHooks?: { midAppend?: () => Promise<void>; afterAppend?: () => Promise<void> };
}

/**
 * `interval` by default, as RocksDB, geth's LevelDB and Kafka do: an acknowledged write survives a process crash
 * (it is in the page cache; the SIGKILL tests cover it), only a power loss can drop the last `syncIntervalMs`, and
 * every segment is re-verifiable against its on-chain root and re-fetchable from peers. `always` costs about 3-4x
 * in write bandwidth on this class of disk (see `pnpm bench:storage`) and stays available for operators who want it.
 */
export const defaultSegmentStoreOptions: Omit<SegmentStoreOptions, "dir"> = {
  fsync: "interval",
  syncIntervalMs: 200,
  maxDataFileBytes: 1024 * 1024 * 1024,
  maxGroupBytes: 16 * 1024 * 1024,
};
