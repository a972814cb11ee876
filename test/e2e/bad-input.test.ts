/**
 * Bad input against a spawned `zgnode dev`: a few hundred malformed requests (fast-check generated envelopes,
 * wrong param types, oversized bodies and batches, undecodable and badly signed raw transactions), each of
 * which must get the right JSON-RPC error, while the node keeps serving.
 */

import { decodeRlp, encodeRlp, Transaction, toBeArray, Wallet } from "ethers";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { ZgnodeProcess } from "../harness/index.ts";

const KEY0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const ADDR0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
const MAX_BODY = 64 * 1024;
const MAX_BATCH = 50;

interface Reply {
  id?: unknown;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

describe("zgnode dev under bad input", () => {
  const node = new ZgnodeProcess({
    name: "bad-input",
    args: ["--rpc.max-body", String(MAX_BODY), "--rpc.max-batch", String(MAX_BATCH)],
  });
  let sent = 0;

  async function post(body: string): Promise<{ status: number; text: string }> {
    sent++;
    const res = await fetch(node.url, { method: "POST", headers: { "content-type": "application/json" }, body });
    return { status: res.status, text: await res.text() };
  }
  async function postJson(body: string): Promise<Reply & Reply[]> {
    const r = await post(body);
    expect(r.status).toBe(200);
    return JSON.parse(r.text);
  }
  async function stillServes(): Promise<void> {
    const r = await postJson('{"jsonrpc":"2.0","id":"alive","method":"eth_chainId","params":[]}');
    expect(r).toEqual({ jsonrpc: "2.0", id: "alive", result: "0x22b8" });
  }

  beforeAll(async () => {
    await node.start();
  });
  afterAll(async () => {
    await node.cleanup();
  });

  const dumpLogsOnFailure = () =>
    onTestFailed(async () => {
      console.error(await node.logTail(60));
    });

  it("answers unparsable JSON with -32700 and id null", async () => {
    dumpLogsOnFailure();
    const notJson = fc.string({ maxLength: 200 }).filter((s) => {
      try {
        JSON.parse(s);
        return false;
      } catch {
        return true;
      }
    });
    const truncated = fc
      .record({ id: fc.integer(), method: fc.string({ maxLength: 20 }) })
      .chain((o) => fc.nat({ max: 40 }).map((cut) => JSON.stringify({ jsonrpc: "2.0", ...o, params: [] }).slice(0, cut + 1)));
    await fc.assert(
      fc.asyncProperty(fc.oneof(notJson, truncated), async (body) => {
        const r = await postJson(body);
        expect(r.error?.code).toBe(-32700);
        expect(r.id).toBe(null);
      }),
      { numRuns: 80 },
    );
    await stillServes();
  });

  it("answers invalid envelopes with -32600, per batch item", async () => {
    dumpLogsOnFailure();
    const badEnvelope = fc.oneof(
      fc.record({ jsonrpc: fc.constantFrom("1.0", "2", 2, null), id: fc.integer(), method: fc.constant("eth_chainId") }),
      fc.record({
        jsonrpc: fc.constant("2.0"),
        id: fc.integer(),
        method: fc.oneof(fc.integer(), fc.constant(""), fc.constant(null), fc.array(fc.string())),
      }),
      fc.record({
        jsonrpc: fc.constant("2.0"),
        id: fc.oneof(fc.object(), fc.boolean(), fc.array(fc.integer())),
        method: fc.constant("eth_chainId"),
      }),
      fc.oneof(fc.integer(), fc.boolean(), fc.string(), fc.constant(null)),
    );
    await fc.assert(
      fc.asyncProperty(badEnvelope, async (msg) => {
        const r = await postJson(JSON.stringify(msg));
        expect(r.error?.code).toBe(-32600);
      }),
      { numRuns: 60 },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(badEnvelope, { minLength: 1, maxLength: 8 }), async (batch) => {
        const mixed = [...batch, { jsonrpc: "2.0", id: "ok", method: "eth_chainId" }];
        const r = await postJson(JSON.stringify(mixed));
        expect(r).toHaveLength(mixed.length);
        expect(r.slice(0, batch.length).every((x) => x.error?.code === -32600)).toBe(true);
        expect(r[batch.length]).toMatchObject({ id: "ok", result: "0x22b8" });
      }),
      { numRuns: 20 },
    );
    expect((await postJson("[]")).error?.code).toBe(-32600);
    await stillServes();
  });

  it("answers unknown methods with -32601", async () => {
    dumpLogsOnFailure();
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1, maxLength: 40 }), fc.integer(), async (name, id) => {
        const r = await postJson(JSON.stringify({ jsonrpc: "2.0", id, method: `zz_${name}`, params: [] }));
        expect(r.error?.code).toBe(-32601);
        expect(r.id).toBe(id);
      }),
      { numRuns: 30 },
    );
  });

  it("answers wrongly typed params with -32602", async () => {
    dumpLogsOnFailure();
    const notAddress = fc.oneof(
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.object(),
      fc.string({ maxLength: 50 }).filter((s) => !/^0x[0-9a-fA-F]{40}$/.test(s)),
      fc.stringMatching(/^[0-9a-f]{41}$/).map((h) => `0x${h}`), // 41 hex digits: one too many
    );
    const notBlock = fc.oneof(
      fc.integer(),
      fc.constant("0x"),
      fc.constant("0xzz"),
      fc.constant("latestt"),
      fc.array(fc.integer(), { maxLength: 2 }),
      fc.constant(true),
    );
    const cases = fc.oneof(
      notAddress.map((a) => ({ method: "eth_getBalance", params: [a, "latest"] })),
      notAddress.filter((a) => a !== null).map((a) => ({ method: "eth_getCode", params: [a, "latest"] })),
      notBlock.map((b) => ({ method: "eth_getBlockByNumber", params: [b, false] })),
      fc.oneof(fc.integer(), fc.string({ maxLength: 10 })).map((h) => ({ method: "eth_getTransactionByHash", params: [h] })),
      fc
        .oneof(fc.integer(), fc.constant("0x123"), fc.constant("nothex"), fc.constant(null))
        .map((d) => ({ method: "eth_sendRawTransaction", params: [d] })),
      fc.constant({ method: "eth_getBalance", params: [] }),
      fc.constant({ method: "eth_getBalance", params: { address: ADDR0 } }),
      fc.constant({ method: "eth_chainId", params: [1, 2, 3] }),
    );
    await fc.assert(
      fc.asyncProperty(cases, fc.integer(), async (c, id) => {
        const r = await postJson(JSON.stringify({ jsonrpc: "2.0", id, ...c }));
        expect(r.error?.code, JSON.stringify(c)).toBe(-32602);
        expect(r.id).toBe(id);
      }),
      { numRuns: 70 },
    );
    await stillServes();
  });

  it("limits body size (HTTP 413 + JSON-RPC error) and batch length (geth's batch too large)", async () => {
    dumpLogsOnFailure();
    for (const size of [MAX_BODY + 1, 4 * MAX_BODY, 2 * 1024 * 1024]) {
      const body = JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "eth_call",
        params: [{ data: `0x${"00".repeat(size / 2)}` }],
      });
      const r = await post(body);
      expect(r.status).toBe(413);
      expect(JSON.parse(r.text).error.code).toBe(-32600);
    }
    for (const n of [MAX_BATCH + 1, MAX_BATCH * 4]) {
      const batch = Array.from({ length: n }, (_, i) => ({ jsonrpc: "2.0", id: i + 7, method: "eth_chainId" }));
      expect(await postJson(JSON.stringify(batch))).toEqual([
        { jsonrpc: "2.0", id: 7, error: { code: -32600, message: "batch too large" } },
      ]);
    }
    const atLimit = Array.from({ length: MAX_BATCH }, (_, i) => ({ jsonrpc: "2.0", id: i, method: "eth_chainId" }));
    expect(await postJson(JSON.stringify(atLimit))).toHaveLength(MAX_BATCH);
    await stillServes();
  });

  it("rejects undecodable and badly signed raw transactions without touching state", async () => {
    dumpLogsOnFailure();
    const wallet = new Wallet(KEY0);
    const nonceBefore = (
      await postJson(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_getTransactionCount", params: [ADDR0, "pending"] }))
    ).result;
    const send = (raw: string) =>
      postJson(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_sendRawTransaction", params: [raw] }));

    // Random bytes, and random bytes behind each typed-tx prefix.
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("", "01", "02", "03", "04", "7f", "c0"),
        fc.uint8Array({ maxLength: 200 }),
        async (prefix, body) => {
          const r = await send(`0x${prefix}${Buffer.from(body).toString("hex")}`);
          expect(r.error, `accepted garbage ${prefix}`).toBeDefined();
          expect([-32602, -32000]).toContain(r.error?.code);
        },
      ),
      { numRuns: 60 },
    );

    const signed = Transaction.from(
      await wallet.signTransaction({
        type: 2,
        chainId: 8888n,
        nonce: Number(BigInt(nonceBefore as string)),
        to: "0x000000000000000000000000000000000000dEaD",
        value: 1n,
        gasLimit: 21_000n,
        maxFeePerGas: 10n ** 10n,
        maxPriorityFeePerGas: 10n ** 9n,
      }),
    );
    const unsignedHex = signed.unsignedSerialized;
    const { r: sigR, s: sigS, yParity } = signed.signature!;
    const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
    // Built by hand: ethers refuses to serialize non-canonical signatures (high s, zero r/s).
    const unsignedFields = decodeRlp(`0x${unsignedHex.slice(4)}`) as string[];
    const withSig = (r: bigint, s: bigint, v: number) =>
      `0x02${encodeRlp([...unsignedFields, toBeArray(v), toBeArray(r), toBeArray(s)]).slice(2)}`;
    const badSigs = fc.oneof(
      fc.bigInt({ min: 1n, max: n - 1n }).map((r) => withSig(r, BigInt(sigS), yParity)), // wrong r: another (unfunded) sender or none
      fc.constant(withSig(BigInt(sigR), n - BigInt(sigS), yParity)), // high s (EIP-2)
      fc.constant(withSig(0n, BigInt(sigS), yParity)),
      fc.constant(withSig(BigInt(sigR), 0n, yParity)),
    );
    await fc.assert(
      fc.asyncProperty(badSigs, async (raw) => {
        const r = await send(raw);
        expect(r.error, "accepted a badly signed tx").toBeDefined();
        expect([-32602, -32000]).toContain(r.error?.code);
      }),
      { numRuns: 30 },
    );
    // Wrong chain id, correctly signed.
    const otherChain = await wallet.signTransaction({
      type: 2,
      chainId: 1n,
      nonce: 0,
      to: ADDR0,
      gasLimit: 21_000n,
      maxFeePerGas: 10n ** 10n,
      maxPriorityFeePerGas: 1n,
    });
    expect((await send(otherChain)).error?.code).toBe(-32000);

    const nonceAfter = (
      await postJson(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_getTransactionCount", params: [ADDR0, "pending"] }))
    ).result;
    expect(nonceAfter).toBe(nonceBefore);
    // The genuine tx still goes through.
    expect((await send(signed.serialized)).result).toBe(signed.hash);
    await stillServes();
  });

  it("keeps a WebSocket connection serving after garbage messages", async () => {
    dumpLogsOnFailure();
    const ws = new WebSocket(node.wsUrl);
    const inbox: Reply[] = [];
    ws.onmessage = (ev) => {
      const m = JSON.parse(String(ev.data));
      inbox.push(...(Array.isArray(m) ? m : [m]));
    };
    await new Promise<void>((r) => {
      ws.onopen = () => r();
    });
    for (const junk of ["{", "nope", '{"jsonrpc":"2.0","id":1}', '[{"jsonrpc":"2.0","id":2,"method":"zz"}]']) {
      ws.send(junk);
      sent++;
    }
    ws.send('{"jsonrpc":"2.0","id":3,"method":"eth_chainId"}');
    for (let i = 0; i < 100 && inbox.length < 5; i++) await new Promise((r) => setTimeout(r, 20));
    // Answers may arrive in any order (the batch item is dispatched asynchronously).
    expect(inbox.map((m) => String(m.error?.code ?? m.result)).sort()).toEqual([
      "-32600",
      "-32601",
      "-32700",
      "-32700",
      "0x22b8",
    ]);
    ws.close();
    await stillServes();
    expect(sent).toBeGreaterThanOrEqual(300);
  });
});
