export type {
  BuildBlockAttributes,
  BuiltBlock,
  DevSigner,
  EthBlockProducerView,
  EthChainView,
  EthRpcDeps,
  EthTxPoolView,
} from "./backend.ts";
export { chainView, nextGasLimit, type ProducerViewOptions, producerView, toTxReceipt, txPoolView } from "./chainAdapter.ts";
export { createEthRpcTable } from "./table.ts";
