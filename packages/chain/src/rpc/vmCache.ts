import type { Block } from "@ethereumjs/block";
import type { VM } from "@ethereumjs/vm";
import { bytesToHex } from "@zgnode/utils";

/** Block hash keys by block object: the head block serves thousands of calls, hex-encode its hash once. */
const keys = new WeakMap<Block, string>();

/**
 * Reuses one VM per recently used block for reads, calls and traces: its state reads stay cached for the next
 * use (see FlatStateManager). Each use runs exclusively on the block's VM inside a state checkpoint that is
 * always reverted (overrides and call writes never leak into the next use).
 */
export class VmCache {
  private readonly entries = new Map<string, { vm: Promise<VM>; queue: Promise<unknown> }>();
  private readonly create: (block: Block) => Promise<VM>;
  private readonly maxEntries: number;

  constructor(create: (block: Block) => Promise<VM>, maxEntries = 4) {
    this.create = create;
    this.maxEntries = maxEntries;
  }

  /** Runs `fn` with exclusive use of `block`'s VM; state changes made by `fn` are discarded afterwards. */
  use<T>(block: Block, fn: (vm: VM) => Promise<T>): Promise<T> {
    let key = keys.get(block);
    if (key === undefined) {
      key = bytesToHex(block.hash());
      keys.set(block, key);
    }
    let entry = this.entries.get(key);
    if (entry === undefined) {
      const vm = this.create(block);
      entry = { vm, queue: Promise.resolve() };
      this.entries.set(key, entry);
      // A failed creation must not stay cached.
      vm.catch(() => this.entries.delete(key));
      while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    } else {
      // Most recently used last.
      this.entries.delete(key);
      this.entries.set(key, entry);
    }
    const run = entry.queue.then(async () => {
      const vm = await entry.vm;
      await vm.stateManager.checkpoint();
      try {
        return await fn(vm);
      } finally {
        await vm.stateManager.revert();
      }
    });
    entry.queue = run.catch(() => {});
    return run;
  }

  get size(): number {
    return this.entries.size;
  }
}
