export type {
  BuildBlockAttributes,
  BuiltBlock,
  DevSigner,
  EthBlockProducerView,
  EthChainView,
  EthRpcDeps,
  EthTxPoolView,
} from "./backend.ts";
export { buildBlockOnParent, nextGasLimit, poolBlockOrder } from "./buildBlock.ts";
export { chainView, type ProducerViewOptions, producerView, toTxReceipt, txPoolView } from "./chainAdapter.ts";
export { createEthRpcTable } from "./table.ts";
