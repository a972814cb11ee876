export interface BannerInfo {
  chainId: bigint;
  headNumber: bigint;
  datadir: string;
  ephemeral: boolean;
  httpUrl: string;
  wsUrl: string;
  metricsUrl: string;
  seal: string;
  /** Dev accounts with their private keys; empty when the chain was not started from the dev genesis. */
  accounts: ReadonlyArray<{ address: string; privateKey: string }>;
  balanceText: string;
}

/** The start banner of `zgnode dev`: what a developer needs to point a wallet or a script at the node. */
export function formatBanner(b: BannerInfo): string {
  const lines: string[] = [];
  const rule = "=".repeat(78);
  lines.push(rule, "zgnode dev", rule, "");
  lines.push(`Chain id      ${b.chainId} (0x${b.chainId.toString(16)})`);
  lines.push(`Head          block ${b.headNumber}`);
  lines.push(`Sealing       ${b.seal}`);
  lines.push(`Data dir      ${b.datadir}${b.ephemeral ? " (ephemeral, removed at exit)" : ""}`);
  lines.push(`JSON-RPC      ${b.httpUrl}`);
  lines.push(`WebSocket     ${b.wsUrl}`);
  lines.push(`Metrics       ${b.metricsUrl}`);
  if (b.accounts.length > 0) {
    lines.push("", `Accounts (${b.balanceText} each at genesis; mnemonic "test test ... junk", m/44'/60'/0'/0/i)`, "");
    b.accounts.forEach((a, i) => {
      lines.push(`(${i}) ${a.address}`);
    });
    lines.push("", "Private keys (dev only: never use them on a real network)", "");
    b.accounts.forEach((a, i) => {
      lines.push(`(${i}) ${a.privateKey}`);
    });
  }
  lines.push("", rule, "");
  return lines.join("\n");
}
