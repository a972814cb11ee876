import type { Block } from "@ethereumjs/block";
import type { Common } from "@ethereumjs/common";
import { toQuantity } from "@zgnode/utils";

/** eth_config (EIP-7910): the fork in force at the head, and the next and last scheduled ones. */

const PRECOMPILES: { name: string; address: number; eip: number | undefined }[] = [
  { name: "ECREC", address: 0x01, eip: undefined },
  { name: "SHA256", address: 0x02, eip: undefined },
  { name: "RIPEMD160", address: 0x03, eip: undefined },
  { name: "ID", address: 0x04, eip: undefined },
  { name: "MODEXP", address: 0x05, eip: 198 },
  { name: "BN254_ADD", address: 0x06, eip: 196 },
  { name: "BN254_MUL", address: 0x07, eip: 196 },
  { name: "BN254_PAIRING", address: 0x08, eip: 197 },
  { name: "BLAKE2F", address: 0x09, eip: 152 },
  { name: "KZG_POINT_EVALUATION", address: 0x0a, eip: 4844 },
  { name: "BLS12_G1ADD", address: 0x0b, eip: 2537 },
  { name: "BLS12_G1MSM", address: 0x0c, eip: 2537 },
  { name: "BLS12_G2ADD", address: 0x0d, eip: 2537 },
  { name: "BLS12_G2MSM", address: 0x0e, eip: 2537 },
  { name: "BLS12_PAIRING_CHECK", address: 0x0f, eip: 2537 },
  { name: "BLS12_MAP_FP_TO_G1", address: 0x10, eip: 2537 },
  { name: "BLS12_MAP_FP2_TO_G2", address: 0x11, eip: 2537 },
  { name: "P256VERIFY", address: 0x100, eip: 7951 },
];

function addr(n: number): string {
  return `0x${n.toString(16).padStart(40, "0")}`;
}

function activated(common: Common, eip: number | undefined): boolean {
  if (eip === undefined) return true;
  if (eip === 198 || eip === 196 || eip === 197) return common.gteHardfork("byzantium");
  if (eip === 152) return common.gteHardfork("istanbul");
  return common.isActivatedEIP(eip);
}

export function forkConfig(common: Common, hardfork: string, genesisHash: Uint8Array | undefined): Record<string, unknown> {
  const c = common.copy();
  c.setHardfork(hardfork);
  const out: Record<string, unknown> = { activationTime: Number(c.hardforkTimestamp(hardfork) ?? 0n) };
  if (c.isActivatedEIP(4844)) {
    const perBlob = c.param("blobGasPerBlob");
    const s = c.getBlobGasSchedule();
    out.blobSchedule = {
      target: Number(s.targetBlobGasPerBlock / perBlob),
      max: Number(s.maxBlobGasPerBlock / perBlob),
      baseFeeUpdateFraction: Number(s.blobGasPriceUpdateFraction),
    };
  }
  out.chainId = toQuantity(c.chainId());
  if (genesisHash !== undefined) {
    try {
      out.forkId = c.forkHash(hardfork, genesisHash);
    } catch {
      // forkHash needs every fork to be block- or time-scheduled; leave it out otherwise.
    }
  }
  const precompiles: Record<string, string> = {};
  for (const p of [...PRECOMPILES].sort((a, b) => a.name.localeCompare(b.name))) {
    if (activated(c, p.eip)) precompiles[p.name] = addr(p.address);
  }
  out.precompiles = precompiles;
  const system: Record<string, string> = {};
  if (c.isActivatedEIP(4788)) system.BEACON_ROOTS_ADDRESS = "0x000f3df6d732807ef1319fb7b8bb8522d0beac02";
  if (c.isActivatedEIP(7251)) system.CONSOLIDATION_REQUEST_PREDEPLOY_ADDRESS = "0x0000bbddc7ce488642fb579f8b00f3a590007251";
  if (c.isActivatedEIP(6110)) {
    const params = (c as unknown as { _chainParams?: { depositContractAddress?: string } })._chainParams;
    system.DEPOSIT_CONTRACT_ADDRESS = (params?.depositContractAddress ?? addr(0)).toLowerCase();
  }
  if (c.isActivatedEIP(2935)) system.HISTORY_STORAGE_ADDRESS = "0x0000f90827f1c53a10cb7a02335b175320002935";
  if (c.isActivatedEIP(7002)) system.WITHDRAWAL_REQUEST_PREDEPLOY_ADDRESS = "0x00000961ef480eb55e80d19ad83579a64c007002";
  if (Object.keys(system).length > 0) out.systemContracts = system;
  return out;
}

export function ethConfig(common: Common, head: Block, genesisHash: Uint8Array | undefined): Record<string, unknown> {
  const c = common.copy();
  const current = c.getHardforkBy({ blockNumber: head.header.number, timestamp: head.header.timestamp });
  const timed = c.hardforks().filter((hf) => hf.timestamp !== undefined && hf.timestamp !== null);
  const later = timed.filter((hf) => BigInt(hf.timestamp!) > head.header.timestamp);
  const next = later[0];
  const last = later[later.length - 1];
  return {
    current: forkConfig(common, current, genesisHash),
    next: next === undefined ? null : forkConfig(common, next.name, genesisHash),
    last: last === undefined ? null : forkConfig(common, last.name, genesisHash),
  };
}
