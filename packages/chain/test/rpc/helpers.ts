import { createTx, type TypedTransaction } from "@ethereumjs/tx";
import { Address, bigIntToUnpaddedBytes, createAddressFromString, generateAddress } from "@ethereumjs/util";
import { MemoryStore } from "@zgnode/db";
import { hexToBytes, type RpcConnection, type RpcContext, type RpcMethodTable } from "@zgnode/utils";
import {
  Chain,
  chainView,
  createDevGenesis,
  createEthRpcTable,
  DEV_ACCOUNTS,
  LocalSealer,
  TxPool,
  txPoolView,
} from "../../src/index.ts";
import type { DevSigner, EthRpcDeps } from "../../src/rpc/backend.ts";

/**
 * A dev chain (chain id 8888, Prague) with the eth table on top, for table tests: real Chain, TxPool and a manual
 * LocalSealer over a MemoryStore.
 */

export const TOPIC_A = `0x${"aa".repeat(32)}`;

/**
 * Runtime of the test contract: with empty calldata it emits LOG2(topic0 = TOPIC_A, topic1 = caller) and stops;
 * otherwise it reverts with the calldata as revert data (so custom errors and Error(string) are both testable).
 */
export const LOGGER_RUNTIME = `0x3660${"2c"}5733${"7f"}${"aa".repeat(32)}60006000a2005b366000600037366000fd`;

export function initCode(runtime: string): string {
  const body = runtime.slice(2);
  const len = body.length / 2;
  if (len > 255) throw new Error("runtime too long for this init code");
  const hex = (n: number) => n.toString(16).padStart(2, "0");
  return `0x60${hex(len)}8060${hex(11)}6000396000f3${body}`;
}

export interface TestNode {
  chain: Chain;
  pool: TxPool;
  sealer: LocalSealer;
  table: RpcMethodTable;
  keys: Uint8Array[];
  addresses: Address[];
  call(method: string, ...params: unknown[]): Promise<unknown>;
  clock: { now: number };
}

export function httpCtx(): RpcContext {
  return { transport: "http", remoteAddress: "127.0.0.1", connection: undefined, admin: true };
}

export function wsCtx(): { ctx: RpcContext; notes: { method: string; params: unknown }[]; close(): void } {
  const notes: { method: string; params: unknown }[] = [];
  const closers: (() => void)[] = [];
  const connection: RpcConnection = {
    id: "test",
    notify: (method, params) => notes.push({ method, params }),
    onClose: (cb) => closers.push(cb),
  };
  return {
    ctx: { transport: "ws", remoteAddress: "127.0.0.1", connection, admin: true },
    notes,
    close: () => {
      for (const c of closers) c();
    },
  };
}

export async function startTestNode(extra: Partial<EthRpcDeps> = {}): Promise<TestNode> {
  const chain = await Chain.open({ db: new MemoryStore(), genesis: createDevGenesis() });
  const pool = new TxPool(chain);
  const sealer = new LocalSealer(chain, pool, { mode: "manual" });
  const keys = DEV_ACCOUNTS.map((a) => hexToBytes(a.privateKey));
  const addresses = DEV_ACCOUNTS.map((a) => createAddressFromString(a.address.toLowerCase()));
  const signer: DevSigner = {
    accounts: () => addresses.slice(0, 2),
    privateKey: (a) => {
      const i = addresses.findIndex((x) => x.equals(a));
      return i >= 0 && i < 2 ? keys[i] : undefined;
    },
  };
  const clock = { now: 1_000_000 };
  const table = createEthRpcTable({
    chain: chainView(chain),
    pool: txPoolView(pool),
    producer: { sealNow: async () => (await sealer.sealNow()).block },
    signer,
    now: () => clock.now,
    ...extra,
  });
  const ctx = httpCtx();
  return {
    chain,
    pool,
    sealer,
    table,
    keys,
    addresses,
    clock,
    call: async (method, ...params) => {
      const m = table[method];
      if (m === undefined) throw new Error(`no method ${method}`);
      return m.handler(params, ctx);
    },
  };
}

let nonces = new Map<string, bigint>();

export function resetNonces(): void {
  nonces = new Map();
}

/** Signs an EIP-1559 (or legacy when `legacy`) tx from dev account `i`, tracking nonces locally. */
export function signedTx(
  node: TestNode,
  i: number,
  fields: { to?: string; data?: string; value?: bigint; gasLimit?: bigint; legacy?: boolean },
): TypedTransaction {
  const from = node.addresses[i]!.toString();
  const nonce = nonces.get(from) ?? 0n;
  nonces.set(from, nonce + 1n);
  const common = node.chain.common;
  const base = {
    nonce,
    gasLimit: fields.gasLimit ?? 200_000n,
    to: fields.to,
    value: fields.value ?? 0n,
    data: fields.data ?? "0x",
  };
  const data = fields.legacy
    ? { ...base, type: 0, gasPrice: 10_000_000_000n }
    : { ...base, type: 2, maxFeePerGas: 10_000_000_000n, maxPriorityFeePerGas: 1_000_000_000n, chainId: 8888n };
  return createTx(data as never, { common }).sign(node.keys[i]!);
}

export function createdAddress(from: Address, nonce: bigint): string {
  return new Address(generateAddress(from.bytes, bigIntToUnpaddedBytes(nonce))).toString();
}
