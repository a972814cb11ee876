export interface DbOptions {
  /** Directory of the LevelDB database. */
  path: string;
  /** LevelDB block cache in bytes. */
  cacheSize: number;
  /** LevelDB write buffer in bytes. */
  writeBufferSize: number;
}

export const defaultDbOptions: Omit<DbOptions, "path"> = {
  cacheSize: 64 * 1024 * 1024,
  writeBufferSize: 16 * 1024 * 1024,
};
