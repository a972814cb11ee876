import type { Chain, LocalSealer } from "@zgnode/chain";
import { bytesToHex, type RpcMethodTable, toQuantity } from "@zgnode/utils";

/**
 * Dev-only admin methods (loopback or admin token): seal a block now, whatever the `--seal` mode. `evm_mine`
 * has the name and answer ("0x0") hardhat and anvil use, so existing dev tooling works unchanged.
 */
export function createDevRpcTable(deps: { chain: Chain; sealer: LocalSealer }): RpcMethodTable {
  const seal = async () => {
    const { block } = await deps.sealer.sealNow();
    return block;
  };
  return {
    evm_mine: {
      params: [],
      admin: true,
      handler: async () => {
        await seal();
        return "0x0";
      },
    },
    dev_sealBlock: {
      params: [],
      admin: true,
      handler: async () => {
        const block = await seal();
        return {
          number: toQuantity(block.header.number),
          hash: bytesToHex(block.hash()),
          transactions: block.transactions.length,
          head: toQuantity(deps.chain.head.header.number),
        };
      },
    },
  };
}
