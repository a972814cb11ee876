import type { Block } from "@ethereumjs/block";
import { getMerkleStateProof, type MerkleStateManager } from "@ethereumjs/statemanager";
import {
  createBlob4844TxFromSerializedNetworkWrapper,
  createTxFromRLP,
  TransactionType,
  type TypedTransaction,
} from "@ethereumjs/tx";
import { bytesToBigInt, setLengthLeft } from "@ethereumjs/util";
import { encodeReceipt, runTx, type TxReceipt, type VM } from "@ethereumjs/vm";
import { keccak256 } from "@zgnode/crypto";
import {
  bytesToHex,
  type Hex,
  invalidParams,
  type JsonSchema,
  RpcError,
  RpcErrorCode,
  type RpcMethod,
  type RpcMethodTable,
  rpcSchemas,
  toQuantity,
} from "@zgnode/utils";
import { FlatStateBase, FlatStateManager } from "../flatState.ts";
import type { BuildBlockAttributes, EthRpcDeps } from "./backend.ts";
import { buildBlockOnParent, poolBlockOrder } from "./buildBlock.ts";
import {
  applyStateOverrides,
  type CallArgs,
  callBlock,
  callResultOrThrow,
  createAccessList,
  estimateGas,
  parseCallArgs,
  parseStateOverrides,
  runCall,
} from "./call.ts";
import { ethConfig } from "./config.ts";
import { buildFeeHistory, checkPercentiles, type FeeHistoryBlock, MAX_FEE_HISTORY_BLOCKS } from "./feeHistory.ts";
import {
  bloomMayMatch,
  bloomQuery,
  FilterRegistry,
  type LogCriteria,
  matchLog,
  parseLogCriteria,
  parseLogFilter,
} from "./filters.ts";
import {
  effectiveGasPrice,
  formatBlock,
  formatBlockReceipts,
  formatHeaderFields,
  formatLog,
  formatTransaction,
  inclusionOf,
  type JsonObject,
} from "./format.ts";
import {
  type BlockRef,
  parseAddress,
  parseBlockId,
  parseBlockNumberOrTag,
  parseBool,
  parseData,
  parseHash,
  parseObject,
  parseQuantity,
  parseStorageKey,
} from "./params.ts";
import { signDevMessage, signDevTransaction, signDevTypedData } from "./signer.ts";
import { simulateV1 } from "./simulate.ts";
import { CallTracer, StructLogger, type StructLoggerConfig } from "./tracers.ts";
import { VmCache } from "./vmCache.ts";

const DEFAULT_FILTER_TIMEOUT_MS = 5 * 60_000;
const DEFAULT_GAS_CAP = 50_000_000n;
const DEFAULT_LOGS_RANGE = 10_000;

const S = rpcSchemas;
const anyParam: JsonSchema = S.any;

function serverError(message: string): RpcError {
  return new RpcError(RpcErrorCode.SERVER_ERROR, message);
}

/** Builds the eth_/net_/web3_/txpool_/debug_/testing_ method table over the node's chain, pool and producer. */
export function createEthRpcTable(deps: EthRpcDeps): RpcMethodTable {
  const { chain, pool } = deps;
  const now = deps.now ?? Date.now;
  const gasCap = deps.rpcGasCap ?? DEFAULT_GAS_CAP;
  const maxRange = deps.maxLogsBlockRange ?? DEFAULT_LOGS_RANGE;
  const filters = new FilterRegistry(deps.filterTimeoutMs ?? DEFAULT_FILTER_TIMEOUT_MS, now);
  const chainId = chain.common.chainId();

  // ---- block and state resolution ----

  async function resolveBlock(ref: BlockRef): Promise<Block | undefined> {
    if (ref.kind === "hash") return chain.blockByHash(ref.hash);
    if (ref.kind === "tag") return ref.tag === "earliest" ? chain.blockByNumber(0n) : chain.head();
    if (ref.number > chain.head().header.number) return undefined;
    return chain.blockByNumber(ref.number);
  }

  /** For state reads: a missing block is an error (geth: "header not found"). */
  async function requireBlock(ref: BlockRef): Promise<Block> {
    const block = await resolveBlock(ref);
    if (block === undefined) {
      throw serverError(ref.kind === "hash" ? `header for hash not found` : "header not found");
    }
    return block;
  }

  /**
   * VMs for reads, calls and traces on recent blocks: state comes decoded from maps shared by every use of the
   * block's state root, writes go to a per-use overlay (see FlatStateManager), so a call never decodes RLP or
   * walks the trie for what an earlier use already read.
   */
  const vms = new VmCache(async (block) => {
    const vm = await chain.vmAt(block, (sm) => new FlatStateManager(new FlatStateBase(sm), sm.common));
    vm.common.setHardforkBy({ blockNumber: block.header.number, timestamp: block.header.timestamp });
    return vm;
  });

  /** Runs `fn` on the state after the referenced block (a cached VM; writes are discarded). */
  async function withState<T>(ref: BlockRef, fn: (s: { block: Block; vm: VM }) => Promise<T>): Promise<T> {
    const block = await requireBlock(ref);
    return useVm(block, (vm) => fn({ block, vm }));
  }

  /**
   * The cached VM of `block`, except before Byzantium: receipts of those forks carry an intermediate state root,
   * which the flat state cannot compute: those run on a fresh trie-backed VM.
   */
  async function useVm<T>(block: Block, fn: (vm: VM) => Promise<T>): Promise<T> {
    if (block.common.gteHardfork("byzantium")) return vms.use(block, fn);
    const vm = await chain.vmAt(block);
    vm.common.setHardforkBy({ blockNumber: block.header.number, timestamp: block.header.timestamp });
    return fn(vm);
  }

  /**
   * The shared shape of eth_call, eth_estimateGas and eth_createAccessList: params (call, block, state overrides),
   * the block's VM with the overrides applied, and the block as the call sees it.
   */
  function withCallState<T>(p: unknown[], fn: (args: CallArgs, env: Block, vm: VM) => Promise<T>): Promise<T> {
    const args = parseCallArgs(p[0], 0);
    return withState(parseBlockId(p[1], 1), async ({ block, vm }) => {
      await applyStateOverrides(vm, parseStateOverrides(p[2], 2));
      return fn(args, callBlock(block, args, vm), vm);
    });
  }

  /** A fresh VM for the referenced block (for work that needs committed, unshared state: proofs). */
  async function stateVm(ref: BlockRef): Promise<{ block: Block; vm: VM }> {
    const block = await requireBlock(ref);
    const vm = await chain.vmAt(block);
    vm.common.setHardforkBy({ blockNumber: block.header.number, timestamp: block.header.timestamp });
    return { block, vm };
  }

  async function blockTxCount(block: Block | undefined): Promise<Hex | null> {
    return block === undefined ? null : toQuantity(block.transactions.length);
  }

  async function txInBlock(block: Block | undefined, index: bigint): Promise<JsonObject | null> {
    if (block === undefined || index >= BigInt(block.transactions.length)) return null;
    const i = Number(index);
    return formatTransaction(block.transactions[i]!, inclusionOf(block, i));
  }

  async function findMinedTx(hash: Uint8Array): Promise<{ block: Block; index: number } | undefined> {
    const loc = await chain.txLocation(hash);
    if (loc === undefined) return undefined;
    const block = await chain.blockByHash(loc.blockHash);
    if (block === undefined) return undefined;
    return { block, index: loc.index };
  }

  // ---- logs ----

  function logsOfBlock(block: Block, receipts: TxReceipt[], criteria: LogCriteria, out: JsonObject[]): void {
    let logIndex = 0;
    for (let i = 0; i < receipts.length; i++) {
      const receipt = receipts[i]!;
      const tx = block.transactions[i];
      if (tx === undefined) break;
      for (const log of receipt.logs) {
        if (matchLog(criteria, log[0], log[1])) out.push(formatLog(log, inclusionOf(block, i), tx.hash(), logIndex));
        logIndex++;
      }
    }
  }

  async function getLogs(filter: ReturnType<typeof parseLogFilter>): Promise<JsonObject[]> {
    const out: JsonObject[] = [];
    if (filter.blockHash !== undefined) {
      const block = await chain.blockByHash(filter.blockHash);
      if (block === undefined) throw serverError("unknown block");
      logsOfBlock(block, await chain.receipts(block), filter, out);
      return out;
    }
    const head = chain.head().header.number;
    const toNumber = (ref: BlockRef | undefined): bigint => {
      if (ref === undefined) return head;
      if (ref.kind === "number") return ref.number;
      if (ref.kind === "tag" && ref.tag === "earliest") return 0n;
      return head;
    };
    const from = toNumber(filter.fromBlock);
    const to = toNumber(filter.toBlock);
    if (from > to) throw invalidParams("invalid block range params");
    if (to > head) throw invalidParams("block range extends beyond current head block");
    if (to - from + 1n > BigInt(maxRange)) {
      throw new RpcError(RpcErrorCode.LIMIT_EXCEEDED, `query exceeds max block range ${maxRange}`);
    }
    const query = bloomQuery(filter);
    for (let n = from; n <= to; n++) {
      const block = await chain.blockByNumber(n);
      if (block === undefined) continue;
      if (!bloomMayMatch(block.header.logsBloom, query)) continue;
      logsOfBlock(block, await chain.receipts(block), filter, out);
    }
    return out;
  }

  // ---- events: filters and subscriptions ----

  const blockListeners = new Set<(block: Block, receipts: TxReceipt[]) => void>();
  const txListeners = new Set<(tx: TypedTransaction) => void>();
  chain.onBlock((block, receipts) => {
    const hash = bytesToHex(block.hash());
    for (const f of filters.all()) {
      if (f.kind === "blocks") f.pending.push(hash);
      else if (f.kind === "logs") {
        const out: JsonObject[] = [];
        logsOfBlock(block, receipts, f.criteria, out);
        f.pending.push(...out);
      }
    }
    for (const l of blockListeners) l(block, receipts);
  });
  pool.onTx((tx) => {
    const hash = bytesToHex(tx.hash());
    for (const f of filters.all()) if (f.kind === "pendingTxs") f.pending.push(hash);
    for (const l of txListeners) l(tx);
  });

  // ---- methods ----

  const m = (params: JsonSchema[], handler: RpcMethod["handler"], required?: number): RpcMethod => ({
    params,
    handler,
    required: required ?? params.length,
  });

  const table: RpcMethodTable = {
    web3_clientVersion: m([], () => deps.clientVersion ?? "zgnode/v0.1.0"),
    web3_sha3: m([S.data], (p) => bytesToHex(keccak256(parseData(p[0], 0)))),
    net_version: m([], () => (deps.networkId ?? chainId).toString()),
    net_listening: m([], () => true),
    net_peerCount: m([], () => toQuantity(deps.peerCount?.() ?? 0)),

    eth_chainId: m([], () => toQuantity(chainId)),
    eth_syncing: m([], () => false),
    eth_blockNumber: m([], () => toQuantity(chain.head().header.number)),
    eth_coinbase: m([], () => bytesToHex(chain.head().header.coinbase.bytes)),
    eth_mining: m([], () => false),
    eth_hashrate: m([], () => "0x0"),
    eth_protocolVersion: m([], () => "0x44"),

    eth_gasPrice: m([], () => {
      // The larger of the head's and the next block's base fee: a price that passes eth_estimateGas at "latest"
      // (checked against the head) and is still includable in the next block while the base fee falls.
      const head = chain.head().header;
      const next = head.calcNextBaseFee();
      const current = head.baseFeePerGas ?? 0n;
      return toQuantity((current > next ? current : next) + suggestTip());
    }),
    eth_maxPriorityFeePerGas: m([], () => toQuantity(suggestTip())),
    eth_baseFee: m([], () => toQuantity(chain.head().header.calcNextBaseFee())),
    eth_blobBaseFee: m([], () => toQuantity(nextBlobBaseFee(chain.head()))),
    eth_feeHistory: m(
      [S.uint, S.blockNumberOrTag, { type: "array", items: { type: "number" } }],
      async (p) => {
        let count = parseQuantity(p[0], 0);
        const newest = await requireBlock(parseBlockNumberOrTag(p[1], 1));
        const percentiles = p[2] === undefined || p[2] === null ? undefined : (p[2] as number[]);
        if (percentiles !== undefined) {
          const bad = checkPercentiles(percentiles);
          if (bad !== undefined) throw invalidParams(bad);
        }
        if (count > BigInt(MAX_FEE_HISTORY_BLOCKS)) count = BigInt(MAX_FEE_HISTORY_BLOCKS);
        if (count > newest.header.number + 1n) count = newest.header.number + 1n;
        const oldest = newest.header.number + 1n - count;
        const blocks: FeeHistoryBlock[] = [];
        for (let n = oldest; n <= newest.header.number; n++) {
          const block = n === newest.header.number ? newest : await chain.blockByNumber(n);
          if (block === undefined) break;
          blocks.push(await feeHistoryBlock(block, percentiles !== undefined));
        }
        const h = buildFeeHistory(oldest, blocks, newest.header.calcNextBaseFee(), nextBlobBaseFee(newest), percentiles);
        const out: JsonObject = {
          oldestBlock: toQuantity(h.oldestBlock),
          baseFeePerGas: h.baseFeePerGas.map(toQuantity),
          gasUsedRatio: h.gasUsedRatio,
          baseFeePerBlobGas: h.baseFeePerBlobGas.map(toQuantity),
          blobGasUsedRatio: h.blobGasUsedRatio,
        };
        if (h.reward !== undefined) out.reward = h.reward.map((r) => r.map(toQuantity));
        return out;
      },
      2,
    ),

    eth_getBlockByNumber: m(
      [S.blockNumberOrTag, S.bool],
      async (p) => {
        const block = await resolveBlock(parseBlockNumberOrTag(p[0], 0));
        return block === undefined ? null : formatBlock(block, parseBool(p[1], 1, false));
      },
      1,
    ),
    eth_getBlockByHash: m(
      [S.hash32, S.bool],
      async (p) => {
        const block = await chain.blockByHash(parseHash(p[0], 0));
        return block === undefined ? null : formatBlock(block, parseBool(p[1], 1, false));
      },
      1,
    ),
    eth_getBlockTransactionCountByNumber: m([S.blockNumberOrTag], async (p) =>
      blockTxCount(await resolveBlock(parseBlockNumberOrTag(p[0], 0))),
    ),
    eth_getBlockTransactionCountByHash: m([S.hash32], async (p) => blockTxCount(await chain.blockByHash(parseHash(p[0], 0)))),
    eth_getUncleCountByBlockNumber: m([S.blockNumberOrTag], async (p) => {
      const block = await resolveBlock(parseBlockNumberOrTag(p[0], 0));
      return block === undefined ? null : toQuantity(block.uncleHeaders.length);
    }),
    eth_getUncleCountByBlockHash: m([S.hash32], async (p) => {
      const block = await chain.blockByHash(parseHash(p[0], 0));
      return block === undefined ? null : toQuantity(block.uncleHeaders.length);
    }),
    eth_getUncleByBlockNumberAndIndex: m([S.blockNumberOrTag, S.uint], async (p) => {
      const block = await resolveBlock(parseBlockNumberOrTag(p[0], 0));
      const uncle = block?.uncleHeaders[Number(parseQuantity(p[1], 1))];
      return uncle === undefined
        ? null
        : { ...formatHeaderFields(uncle), size: toQuantity(uncle.serialize().length), uncles: [] };
    }),
    eth_getUncleByBlockHashAndIndex: m([S.hash32, S.uint], async (p) => {
      const block = await chain.blockByHash(parseHash(p[0], 0));
      const uncle = block?.uncleHeaders[Number(parseQuantity(p[1], 1))];
      return uncle === undefined
        ? null
        : { ...formatHeaderFields(uncle), size: toQuantity(uncle.serialize().length), uncles: [] };
    }),
    eth_getTransactionByBlockNumberAndIndex: m([S.blockNumberOrTag, S.uint], async (p) =>
      txInBlock(await resolveBlock(parseBlockNumberOrTag(p[0], 0)), parseQuantity(p[1], 1)),
    ),
    eth_getTransactionByBlockHashAndIndex: m([S.hash32, S.uint], async (p) =>
      txInBlock(await chain.blockByHash(parseHash(p[0], 0)), parseQuantity(p[1], 1)),
    ),
    eth_getTransactionByHash: m([S.hash32], async (p) => {
      const hash = parseHash(p[0], 0);
      const mined = await findMinedTx(hash);
      if (mined !== undefined)
        return formatTransaction(mined.block.transactions[mined.index]!, inclusionOf(mined.block, mined.index));
      const pending = pool.get(hash);
      return pending === undefined ? null : formatTransaction(pending, undefined);
    }),
    eth_getTransactionReceipt: m([S.hash32], async (p) => {
      const mined = await findMinedTx(parseHash(p[0], 0));
      if (mined === undefined) return null;
      return formatBlockReceipts(mined.block, await chain.receipts(mined.block))[mined.index] ?? null;
    }),
    eth_getBlockReceipts: m([S.blockId], async (p) => {
      const block = await resolveBlock(parseBlockId(p[0], 0));
      return block === undefined ? null : formatBlockReceipts(block, await chain.receipts(block));
    }),

    eth_getBalance: m(
      [S.address, S.blockId],
      async (p) => {
        const address = parseAddress(p[0], 0);
        return withState(parseBlockId(p[1], 1), async ({ vm }) => {
          return toQuantity((await vm.stateManager.getAccount(address))?.balance ?? 0n);
        });
      },
      1,
    ),
    eth_getTransactionCount: m(
      [S.address, S.blockId],
      async (p) => {
        const address = parseAddress(p[0], 0);
        const ref = parseBlockId(p[1], 1);
        if (ref.kind === "tag" && ref.tag === "pending") return toQuantity(await pool.pendingNonce(address));
        return withState(ref, async ({ vm }) => {
          return toQuantity((await vm.stateManager.getAccount(address))?.nonce ?? 0n);
        });
      },
      1,
    ),
    eth_getCode: m(
      [S.address, S.blockId],
      async (p) => {
        const address = parseAddress(p[0], 0);
        return withState(parseBlockId(p[1], 1), async ({ vm }) => {
          return bytesToHex(await vm.stateManager.getCode(address));
        });
      },
      1,
    ),
    eth_getStorageAt: m(
      [S.address, anyParam, S.blockId],
      async (p) => {
        const address = parseAddress(p[0], 0);
        const key = parseStorageKey(p[1]);
        return withState(parseBlockId(p[2], 2), async ({ vm }) => {
          return bytesToHex(setLengthLeft(await vm.stateManager.getStorage(address, key), 32));
        });
      },
      2,
    ),
    eth_getStorageValues: m(
      [{ type: "object" }, S.blockId],
      async (p) => {
        const request = parseObject(p[0], 0);
        const entries = Object.entries(request);
        if (entries.length === 0) throw invalidParams("empty request");
        let total = 0;
        const parsed = entries.map(([addr, keys]) => {
          if (!Array.isArray(keys)) throw invalidParams(`invalid argument 0: keys of ${addr} must be an array`);
          total += keys.length;
          return { addr, address: parseAddress(addr, 0), keys: keys.map((k) => parseStorageKey(k)) };
        });
        if (total > 1024) throw invalidParams("too many slots (max 1024)");
        return withState(parseBlockId(p[1], 1), async ({ vm }) => {
          const out: Record<string, Hex[]> = {};
          for (const { addr, address, keys } of parsed) {
            const values: Hex[] = [];
            for (const k of keys) values.push(bytesToHex(setLengthLeft(await vm.stateManager.getStorage(address, k), 32)));
            out[addr] = values;
          }
          return out;
        });
      },
      1,
    ),
    eth_getProof: m(
      [S.address, { type: "array", items: anyParam }, S.blockId],
      async (p) => {
        const address = parseAddress(p[0], 0);
        const rawKeys = p[1] as unknown[];
        const keys = rawKeys.map((k) => parseStorageKey(k));
        const { vm } = await stateVm(parseBlockId(p[2], 2));
        const proof = await getMerkleStateProof(vm.stateManager as MerkleStateManager, address, keys);
        return {
          address: bytesToHex(address.bytes),
          accountProof: proof.accountProof,
          balance: toQuantity(BigInt(proof.balance)),
          codeHash: proof.codeHash,
          nonce: toQuantity(BigInt(proof.nonce)),
          storageHash: proof.storageHash,
          storageProof: proof.storageProof.map((s, i) => ({
            key: canonicalKey(rawKeys[i]),
            value: toQuantity(BigInt(s.value)),
            proof: s.proof,
          })),
        };
      },
      2,
    ),

    eth_call: m(
      [anyParam, S.blockId, { type: "object" }, { type: "object" }],
      (p) =>
        withCallState(p, async (args, env, vm) =>
          bytesToHex(callResultOrThrow(await runCall(vm, env, args, { gasLimit: callGas(args.gas, env, vm) }))),
        ),
      1,
    ),
    eth_estimateGas: m(
      [anyParam, S.blockId, { type: "object" }],
      (p) => withCallState(p, async (args, env, vm) => toQuantity(await estimateGas(vm, env, args, callGas(undefined, env, vm)))),
      1,
    ),
    eth_createAccessList: m(
      [anyParam, S.blockId, { type: "object" }],
      (p) =>
        withCallState(p, async (args, env, vm) => {
          const r = await createAccessList(vm, env, args, callGas(undefined, env, vm));
          const out: JsonObject = { accessList: r.accessList, gasUsed: toQuantity(r.gasUsed) };
          if (r.error !== undefined) out.error = r.error;
          return out;
        }),
      1,
    ),

    eth_simulateV1: m(
      [{ type: "object" }, S.blockId],
      async (p) => {
        const base = await requireBlock(parseBlockId(p[1], 1));
        // A fresh VM: simulated blocks commit state on it block after block.
        const vm = await chain.vmAt(base);
        return simulateV1(base, { vm, gasCap }, p[0]);
      },
      1,
    ),

    eth_sendRawTransaction: m([S.data], async (p) => {
      const raw = parseData(p[0], 0);
      try {
        // Blob txs keep the table's decoder below: it picks the next block's fork for the sidecar format.
        if (pool.addRaw && raw[0] !== TransactionType.BlobEIP4844) return bytesToHex(await pool.addRaw(raw));
      } catch (err) {
        if (err instanceof RpcError) throw err;
        throw serverError(err instanceof Error ? err.message : String(err));
      }
      const tx = decodeRawTransaction(raw);
      try {
        await pool.add(tx);
      } catch (err) {
        if (err instanceof RpcError) throw err;
        throw serverError(err instanceof Error ? err.message : String(err));
      }
      return bytesToHex(tx.hash());
    }),

    eth_getLogs: m([{ type: "object" }], async (p) => getLogs(parseLogFilter(p[0]))),
    eth_newFilter: m([{ type: "object" }], (p) => {
      const criteria = parseLogFilter(p[0]);
      return filters.install({ kind: "logs", criteria, pending: [] });
    }),
    eth_newBlockFilter: m([], () => filters.install({ kind: "blocks", pending: [] })),
    eth_newPendingTransactionFilter: m([], () => filters.install({ kind: "pendingTxs", pending: [] })),
    eth_getFilterChanges: m([S.data], (p) => {
      const f = filters.poll(String(p[0]));
      if (f === undefined) throw serverError("filter not found");
      const out = f.pending;
      f.pending = [];
      return out;
    }),
    eth_getFilterLogs: m([S.data], async (p) => {
      const f = filters.poll(String(p[0]));
      if (f === undefined || f.kind !== "logs") throw serverError("filter not found");
      return getLogs(f.criteria);
    }),
    eth_uninstallFilter: m([S.data], (p) => filters.uninstall(String(p[0]))),

    eth_subscribe: {
      params: [{ type: "string" }, anyParam],
      required: 1,
      wsOnly: true,
      handler(p, ctx) {
        const conn = ctx.connection;
        if (conn === undefined) throw new RpcError(RpcErrorCode.METHOD_NOT_FOUND, "notifications not supported");
        const kind = p[0];
        const id = filters.install({ kind: "blocks", pending: [] });
        // Subscriptions are not polled: drop the placeholder filter, keep only its unique id.
        filters.uninstall(id);
        let stop: () => void;
        if (kind === "newHeads") {
          const l = (block: Block) =>
            conn.notify("eth_subscription", { subscription: id, result: formatHeaderFields(block.header) });
          blockListeners.add(l);
          stop = () => blockListeners.delete(l);
        } else if (kind === "logs") {
          const criteria = parseLogCriteria(p[1] === undefined || p[1] === null ? {} : parseObject(p[1], 1));
          const l = (block: Block, receipts: TxReceipt[]) => {
            const out: JsonObject[] = [];
            logsOfBlock(block, receipts, criteria, out);
            for (const log of out) conn.notify("eth_subscription", { subscription: id, result: log });
          };
          blockListeners.add(l);
          stop = () => blockListeners.delete(l);
        } else if (kind === "newPendingTransactions") {
          const full = p[1] === true;
          const l = (tx: TypedTransaction) =>
            conn.notify("eth_subscription", {
              subscription: id,
              result: full ? formatTransaction(tx, undefined) : bytesToHex(tx.hash()),
            });
          txListeners.add(l);
          stop = () => txListeners.delete(l);
        } else if (kind === "syncing") {
          stop = () => {};
        } else {
          throw invalidParams(`unsupported subscription type: ${String(kind)}`);
        }
        subscriptions.set(id, stop);
        conn.onClose(() => {
          subscriptions.get(id)?.();
          subscriptions.delete(id);
        });
        return id;
      },
    },
    eth_unsubscribe: {
      params: [{ type: "string" }],
      wsOnly: true,
      handler(p) {
        const stop = subscriptions.get(String(p[0]));
        if (stop === undefined) return false;
        stop();
        subscriptions.delete(String(p[0]));
        return true;
      },
    },

    eth_config: m([], async () => ethConfig(chain.common, chain.head(), (await chain.blockByNumber(0n))?.hash())),
    eth_capabilities: m([], () => {
      const head = chain.head();
      const all = { disabled: false, oldestBlock: "0x0" };
      return {
        head: { number: toQuantity(head.header.number), hash: bytesToHex(head.hash()) },
        state: all,
        tx: all,
        logs: all,
        receipts: all,
        blocks: all,
        stateproofs: all,
      };
    }),

    txpool_status: m([], () => {
      let pending = 0;
      let queued = 0;
      for (const txs of pool.pending().values()) pending += txs.length;
      for (const txs of pool.queued().values()) queued += txs.length;
      return { pending: toQuantity(pending), queued: toQuantity(queued) };
    }),
    txpool_content: m([], () => ({ pending: poolContent(pool.pending()), queued: poolContent(pool.queued()) })),
    txpool_contentFrom: m([S.address], (p) => {
      const addr = bytesToHex(parseAddress(p[0], 0).bytes);
      const pick = (map: Map<string, TypedTransaction[]>) => {
        const txs = map.get(addr) ?? [];
        const out: Record<string, JsonObject> = {};
        for (const tx of txs) out[tx.nonce.toString()] = formatTransaction(tx, undefined);
        return out;
      };
      return { pending: pick(pool.pending()), queued: pick(pool.queued()) };
    }),
    txpool_inspect: m([], () => {
      const inspect = (map: Map<string, TypedTransaction[]>) => {
        const out: Record<string, Record<string, string>> = {};
        for (const [addr, txs] of map) {
          const byNonce: Record<string, string> = {};
          for (const tx of txs) {
            const to = tx.to ? tx.to.toString() : "contract creation";
            byNonce[tx.nonce.toString()] =
              `${to}: ${tx.value} wei + ${tx.gasLimit} gas × ${effectiveGasPrice(tx, undefined)} wei`;
          }
          out[addr] = byNonce;
        }
        return out;
      };
      return { pending: inspect(pool.pending()), queued: inspect(pool.queued()) };
    }),

    debug_getRawBlock: m([S.blockId], async (p) => {
      const block = await requireBlock(parseBlockId(p[0], 0));
      return bytesToHex(block.serialize());
    }),
    debug_getRawHeader: m([S.blockId], async (p) => {
      const block = await requireBlock(parseBlockId(p[0], 0));
      return bytesToHex(block.header.serialize());
    }),
    debug_getRawReceipts: m([S.blockId], async (p) => {
      const block = await requireBlock(parseBlockId(p[0], 0));
      const receipts = await chain.receipts(block);
      return receipts.map((r, i) => bytesToHex(encodeReceipt(r, block.transactions[i]!.type)));
    }),
    debug_getRawTransaction: m([S.hash32], async (p) => {
      const hash = parseHash(p[0], 0);
      const mined = await findMinedTx(hash);
      const tx = mined !== undefined ? mined.block.transactions[mined.index] : pool.get(hash);
      return tx === undefined ? "0x" : bytesToHex(tx.serialize());
    }),
    debug_traceTransaction: m(
      [S.hash32, { type: "object" }],
      async (p) => {
        const mined = await findMinedTx(parseHash(p[0], 0));
        if (mined === undefined) throw serverError("transaction not found");
        const traces = await traceBlock(mined.block, parseTraceConfig(p[1]), mined.index);
        return traces[0]!.result;
      },
      1,
    ),
    debug_traceBlockByNumber: m(
      [S.blockNumberOrTag, { type: "object" }],
      async (p) => {
        const ref = parseBlockNumberOrTag(p[0], 0);
        const block = await resolveBlock(ref);
        if (block === undefined) throw serverError(`block #${ref.kind === "number" ? ref.number : "?"} not found`);
        return traceBlock(block, parseTraceConfig(p[1]), undefined);
      },
      1,
    ),
    debug_traceBlockByHash: m(
      [S.hash32, { type: "object" }],
      async (p) => {
        const hash = parseHash(p[0], 0);
        const block = await chain.blockByHash(hash);
        if (block === undefined) throw serverError(`block ${bytesToHex(hash)} not found`);
        return traceBlock(block, parseTraceConfig(p[1]), undefined);
      },
      1,
    ),
    debug_traceCall: m(
      [anyParam, S.blockId, { type: "object" }],
      async (p) => {
        const args = parseCallArgs(p[0], 0);
        return withState(parseBlockId(p[1], 1), async ({ block, vm }) => {
          const cfg = parseTraceConfig(p[2]);
          await applyStateOverrides(
            vm,
            parseStateOverrides((p[2] as { stateOverrides?: unknown } | undefined)?.stateOverrides, 2),
          );
          const env = callBlock(block, args, vm);
          const gas = callGas(args.gas, env, vm);
          const tracer = makeTracer(cfg);
          const detach = tracer.attach(vm.evm);
          try {
            const outcome = await runCall(vm, env, args, { gasLimit: gas });
            return tracerResult(
              tracer,
              outcome.result.execResult.returnValue,
              outcome.result.totalGasSpent,
              gas,
              outcome.error !== undefined,
            );
          } finally {
            detach();
          }
        });
      },
      1,
    ),

    testing_buildBlockV1: m(
      [S.hash32, { type: "object" }, anyParam, S.data],
      async (p) => {
        // Without a producer-provided builder, build on the chain view itself (non-committing).
        const build =
          deps.producer?.buildBlock?.bind(deps.producer) ??
          ((attrs: BuildBlockAttributes) =>
            buildBlockOnParent(chain, attrs, () => poolBlockOrder(pool.pending(), chain.head().header.calcNextBaseFee())));
        const parentHash = parseHash(p[0], 0);
        const a = parseObject(p[1], 1);
        const txs =
          p[2] === undefined || p[2] === null
            ? undefined
            : (p[2] as unknown[]).map((raw) => decodeRawTransaction(parseData(raw, 2)));
        const withdrawals = Array.isArray(a.withdrawals)
          ? (a.withdrawals as Record<string, unknown>[]).map((w) => ({
              index: parseQuantity(w.index, 1),
              validatorIndex: parseQuantity(w.validatorIndex, 1),
              address: parseAddress(w.address, 1),
              amount: parseQuantity(w.amount, 1),
            }))
          : undefined;
        let built: Awaited<ReturnType<typeof build>>;
        try {
          built = await build({
            parentHash,
            timestamp: parseQuantity(a.timestamp, 1),
            feeRecipient: parseAddress(a.suggestedFeeRecipient, 1),
            prevRandao: parseHash(a.prevRandao, 1),
            withdrawals,
            parentBeaconBlockRoot:
              a.parentBeaconBlockRoot === undefined || a.parentBeaconBlockRoot === null
                ? undefined
                : parseHash(a.parentBeaconBlockRoot, 1),
            extraData: p[3] === undefined || p[3] === null ? new Uint8Array() : parseData(p[3], 3),
            txs,
          });
        } catch (err) {
          if (err instanceof RpcError) throw err;
          throw serverError(err instanceof Error ? err.message : String(err));
        }
        const b = built.block;
        const h = b.header;
        const payload: JsonObject = {
          parentHash: bytesToHex(h.parentHash),
          feeRecipient: bytesToHex(h.coinbase.bytes),
          stateRoot: bytesToHex(h.stateRoot),
          receiptsRoot: bytesToHex(h.receiptTrie),
          logsBloom: bytesToHex(h.logsBloom),
          prevRandao: bytesToHex(h.mixHash),
          blockNumber: toQuantity(h.number),
          gasLimit: toQuantity(h.gasLimit),
          gasUsed: toQuantity(h.gasUsed),
          timestamp: toQuantity(h.timestamp),
          extraData: bytesToHex(h.extraData),
          baseFeePerGas: toQuantity(h.baseFeePerGas ?? 0n),
          blockHash: bytesToHex(b.hash()),
          transactions: b.transactions.map((tx) => bytesToHex(tx.serialize())),
        };
        if (b.withdrawals !== undefined) {
          payload.withdrawals = b.withdrawals.map((w) => ({
            index: toQuantity(w.index),
            validatorIndex: toQuantity(w.validatorIndex),
            address: bytesToHex(w.address.bytes),
            amount: toQuantity(w.amount),
          }));
        }
        if (h.blobGasUsed !== undefined) payload.blobGasUsed = toQuantity(h.blobGasUsed);
        if (h.excessBlobGas !== undefined) payload.excessBlobGas = toQuantity(h.excessBlobGas);
        const out: JsonObject = {
          executionPayload: payload,
          blockValue: toQuantity(built.blockValue),
          blobsBundle: { commitments: [], proofs: [], blobs: [] },
        };
        if (h.requestsHash !== undefined) out.executionRequests = (built.requests ?? []).map((r) => bytesToHex(r));
        out.shouldOverrideBuilder = false;
        return out;
      },
      3,
    ),
  };

  // Building blocks on demand is a test hook (execution-apis `testing_` namespace): admin callers only.
  table.testing_buildBlockV1!.admin = true;

  // Node-managed dev keys (dev mode only).
  const signer = deps.signer;
  if (signer !== undefined) {
    table.eth_accounts = m([], () => signer.accounts().map((a) => a.toString()));
    table.eth_sign = m([S.address, S.data], (p) => signDevMessage(signer, parseAddress(p[0], 0), parseData(p[1], 1)));
    table.personal_sign = m([S.data, S.address], (p) => signDevMessage(signer, parseAddress(p[1], 1), parseData(p[0], 0)));
    table.eth_signTypedData_v4 = m([S.address, anyParam], (p) =>
      signDevTypedData(signer, parseAddress(p[0], 0), typeof p[1] === "string" ? JSON.parse(p[1]) : p[1]),
    );
    table.eth_sendTransaction = m([anyParam], async (p) => {
      const args = parseObject(p[0], 0);
      const head = chain.head();
      const tx = await signDevTransaction(signer, args, {
        common: chain.common,
        chainId,
        nonce: (from) => pool.pendingNonce(from),
        baseFee: head.header.calcNextBaseFee(),
        tip: suggestTip(),
        estimate: (callArgs) =>
          useVm(head, (vm) => {
            const parsed = parseCallArgs(callArgs, 0);
            const env = callBlock(head, parsed, vm);
            return estimateGas(vm, env, parsed, callGas(undefined, env, vm));
          }),
      });
      try {
        await pool.add(tx);
      } catch (err) {
        throw serverError(err instanceof Error ? err.message : String(err));
      }
      return bytesToHex(tx.hash());
    });
  } else {
    table.eth_accounts = m([], () => []);
  }

  const subscriptions = new Map<string, () => void>();

  // ---- helpers needing closure state ----

  /** Gas for a call: the request's, else the RPC cap, never above the block limit or EIP-7825's per-tx cap. */
  function callGas(requested: bigint | undefined, env: Block, vm: VM): bigint {
    let cap = gasCap < env.header.gasLimit ? gasCap : env.header.gasLimit;
    if (vm.common.isActivatedEIP(7825)) {
      const txCap = vm.common.param("maxTransactionGasLimit");
      if (txCap < cap) cap = txCap;
    }
    return requested !== undefined && requested < cap ? requested : cap;
  }

  /**
   * The priority fee to suggest: blocks are never full on a single-producer chain, so any tip is included; a
   * small fixed one (0.001 gwei) keeps fees near the base fee. Before London there is no base fee: 1 gwei.
   */
  function suggestTip(): bigint {
    return chain.head().header.baseFeePerGas === undefined ? 1_000_000_000n : 1_000_000n;
  }

  function nextBlobBaseFee(block: Block): bigint {
    if (block.header.excessBlobGas === undefined) return 0n;
    const next = chain.common.copy();
    next.setHardforkBy({ blockNumber: block.header.number + 1n, timestamp: block.header.timestamp + 1n });
    if (!next.isActivatedEIP(4844)) return 0n;
    return block.header.calcNextBlobGasPrice(next);
  }

  async function feeHistoryBlock(block: Block, withRewards: boolean): Promise<FeeHistoryBlock> {
    const h = block.header;
    let blobBaseFee = 0n;
    let maxBlobGas = 0n;
    if (h.excessBlobGas !== undefined) {
      blobBaseFee = h.getBlobGasPrice();
      maxBlobGas = h.common.getBlobGasSchedule().maxBlobGasPerBlock;
    }
    const txs: { reward: bigint; gasUsed: bigint }[] = [];
    if (withRewards && block.transactions.length > 0) {
      const receipts = await chain.receipts(block);
      let prev = 0n;
      block.transactions.forEach((tx, i) => {
        const cumulative = receipts[i]?.cumulativeBlockGasUsed ?? prev;
        const baseFee = h.baseFeePerGas ?? 0n;
        txs.push({ reward: effectiveGasPrice(tx, h.baseFeePerGas) - baseFee, gasUsed: cumulative - prev });
        prev = cumulative;
      });
    }
    return {
      baseFeePerGas: h.baseFeePerGas ?? 0n,
      gasUsed: h.gasUsed,
      gasLimit: h.gasLimit,
      blobBaseFee,
      blobGasUsed: h.blobGasUsed ?? 0n,
      maxBlobGas,
      txs,
    };
  }

  function decodeRawTransaction(raw: Uint8Array): TypedTransaction {
    const opts = { common: chain.common.copy() };
    opts.common.setHardforkBy({ blockNumber: chain.head().header.number + 1n, timestamp: BigInt(Math.floor(now() / 1000)) });
    try {
      if (raw[0] === TransactionType.BlobEIP4844) {
        try {
          return createBlob4844TxFromSerializedNetworkWrapper(raw, opts);
        } catch {
          // Not a network wrapper: the canonical form (no blobs attached).
        }
      }
      return createTxFromRLP(raw, opts);
    } catch (err) {
      // geth answers undecodable transactions with -32000 and the decoder's message.
      throw serverError(`invalid transaction: ${(err as Error).message.split(" (")[0]}`);
    }
  }

  async function traceBlock(
    block: Block,
    cfg: TraceConfig,
    only: number | undefined,
  ): Promise<{ txHash: Hex; result: unknown }[]> {
    if (block.header.number === 0n) throw serverError("genesis is not traceable");
    const parent = await chain.blockByHash(block.header.parentHash);
    if (parent === undefined) throw serverError(`parent ${bytesToHex(block.header.parentHash)} not found`);
    // A fresh VM: replaying whole blocks commits (and, before Byzantium, flushes) state, which must not reach
    // the VMs cached for calls.
    const vm = await chain.vmAt(parent);
    vm.common.setHardforkBy({ blockNumber: block.header.number, timestamp: block.header.timestamp });
    return replayAndTrace(vm, block, cfg, only);
  }

  async function replayAndTrace(
    vm: VM,
    block: Block,
    cfg: TraceConfig,
    only: number | undefined,
  ): Promise<{ txHash: Hex; result: unknown }[]> {
    const out: { txHash: Hex; result: unknown }[] = [];
    let gasUsed = 0n;
    for (let i = 0; i < block.transactions.length; i++) {
      if (only !== undefined && i > only) break;
      const tx = block.transactions[i]!;
      const traced = only === undefined || i === only;
      const tracer = traced ? makeTracer(cfg) : undefined;
      const detach = tracer?.attach(vm.evm);
      try {
        const r = await runTx(vm, {
          tx,
          block,
          skipHardForkValidation: true,
          skipBlockGasLimitValidation: true,
          blockGasUsed: gasUsed,
        });
        gasUsed += r.totalGasSpent;
        if (tracer !== undefined) {
          const result = tracerResult(
            tracer,
            r.execResult.returnValue,
            r.totalGasSpent,
            tx.gasLimit,
            r.execResult.exceptionError !== undefined,
          );
          out.push({ txHash: bytesToHex(tx.hash()), result });
        }
      } finally {
        detach?.();
      }
    }
    return out;
  }

  return table;
}

interface TraceConfig extends StructLoggerConfig {
  tracer?: string;
  tracerConfig?: { onlyTopCall?: boolean };
}

function parseTraceConfig(value: unknown): TraceConfig {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value))
    throw invalidParams("invalid argument 1: expected a trace config object");
  const cfg = value as TraceConfig;
  if (cfg.tracer !== undefined && cfg.tracer !== "callTracer" && cfg.tracer !== "structLogger" && cfg.tracer !== "") {
    throw serverError(`tracer not found: ${cfg.tracer}`);
  }
  return cfg;
}

function makeTracer(cfg: TraceConfig): StructLogger | CallTracer {
  return cfg.tracer === "callTracer" ? new CallTracer(cfg.tracerConfig) : new StructLogger(cfg);
}

function tracerResult(
  tracer: StructLogger | CallTracer,
  ret: Uint8Array,
  gasUsed: bigint,
  gasLimit: bigint,
  failed: boolean,
): unknown {
  return tracer instanceof CallTracer ? tracer.result(gasLimit, gasUsed) : tracer.result(gasUsed, failed, ret);
}

function poolContent(map: Map<string, TypedTransaction[]>): Record<string, Record<string, JsonObject>> {
  const out: Record<string, Record<string, JsonObject>> = {};
  for (const [addr, txs] of map) {
    const byNonce: Record<string, JsonObject> = {};
    for (const tx of txs) byNonce[tx.nonce.toString()] = formatTransaction(tx, undefined);
    out[addr] = byNonce;
  }
  return out;
}

/** eth_getProof echoes a 32-byte key as given, any shorter key as a quantity (geth's rule). */
function canonicalKey(raw: unknown): string {
  const key = parseStorageKey(raw);
  const hexLen = String(raw).length - 2;
  return hexLen === 64 ? bytesToHex(key) : toQuantity(bytesToBigInt(key));
}
