import { mkdtemp, readFile, rm, stat, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bytesToHex, utf8ToBytes } from "@zgnode/utils";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { crc32c } from "../../src/consensus/crc32c.ts";
import type { EngineInput } from "../../src/consensus/types.ts";
import { ConsensusWal } from "../../src/consensus/wal.ts";

const id = (n: number) => bytesToHex(Uint8Array.from({ length: 32 }, (_, i) => (i === 31 ? n : 0xaa)));
const vote = (height: number, round: number, n: number): EngineInput => ({
  type: "vote",
  vote: {
    type: 1,
    height,
    round,
    blockId: n < 0 ? null : id(n),
    validatorIndex: 2,
    signature: new Uint8Array(96).fill(n & 0xff),
  },
});

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "zgnode-wal-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("crc32c", () => {
  it("matches the Castagnoli check value", () => {
    expect(crc32c(utf8ToBytes("123456789"))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
  });
});

describe("ConsensusWal", () => {
  it("replays the inputs after the previous height's end marker, across a reopen", async () => {
    const path = join(dir, "cs.wal");
    const { wal } = await ConsensusWal.open(path);
    await wal.append(vote(1, 0, 1));
    await wal.writeEndHeight(1);
    const inputs: EngineInput[] = [
      vote(2, 0, 2),
      { type: "timeout", timeout: { height: 2, round: 0, step: "propose" } },
      { type: "blockBuilt", height: 2, round: 1, blockId: id(9), payload: Uint8Array.of(1, 2, 3) },
      {
        type: "proposal",
        proposal: {
          height: 2,
          round: 1,
          polRound: 0,
          blockId: id(9),
          payload: Uint8Array.of(1, 2, 3),
          proposerIndex: 1,
          signature: Uint8Array.of(7),
        },
      },
      vote(2, 1, -1),
    ];
    for (const i of inputs) await wal.append(i);
    await wal.sync();
    await wal.close();
    const { wal: again, truncatedBytes } = await ConsensusWal.open(path);
    expect(truncatedBytes).toBe(0);
    expect(again.inputsSince(2)).toEqual(inputs);
    expect(again.inputsSince(1)).toEqual([vote(1, 0, 1)]);
    await again.close();
  });

  it("cuts a torn last record and keeps every complete one", async () => {
    const path = join(dir, "cs.wal");
    const { wal } = await ConsensusWal.open(path);
    await wal.append(vote(1, 0, 1));
    await wal.append(vote(1, 0, 2));
    await wal.sync();
    await wal.close();
    const full = (await stat(path)).size;
    await truncate(path, full - 10); // crash in the middle of writing the second record
    const { wal: again, truncatedBytes } = await ConsensusWal.open(path);
    expect(again.inputsSince(1)).toEqual([vote(1, 0, 1)]);
    expect(truncatedBytes).toBeGreaterThan(0);
    // The log is usable after the repair: appends land after the good prefix.
    await again.append(vote(1, 0, 3));
    await again.close();
    const { wal: third, truncatedBytes: t3 } = await ConsensusWal.open(path);
    expect(t3).toBe(0);
    expect(third.inputsSince(1)).toEqual([vote(1, 0, 1), vote(1, 0, 3)]);
    await third.close();
  });

  it("stops at a record whose checksum does not match", async () => {
    const path = join(dir, "cs.wal");
    const { wal } = await ConsensusWal.open(path);
    await wal.append(vote(1, 0, 1));
    await wal.append(vote(1, 0, 2));
    await wal.close();
    const bytes = new Uint8Array(await readFile(path));
    bytes[bytes.length - 5] ^= 0xff; // flip bits inside the second record's payload
    await writeFile(path, bytes);
    const { wal: again, truncatedBytes } = await ConsensusWal.open(path);
    expect(again.inputsSince(1)).toEqual([vote(1, 0, 1)]);
    expect((await stat(path)).size).toBe(bytes.length - truncatedBytes);
    expect(truncatedBytes).toBeGreaterThan(0);
    await again.close();
  });

  it("rotates to a fresh file at an end-height marker once it is large", async () => {
    const path = join(dir, "cs.wal");
    const { wal } = await ConsensusWal.open(path, { rotateBytes: 500 });
    for (let i = 0; i < 10; i++) await wal.append(vote(5, 0, i));
    await wal.writeEndHeight(5);
    await wal.append(vote(6, 0, 1));
    await wal.close();
    expect((await stat(path)).size).toBeLessThan(500);
    const { wal: again } = await ConsensusWal.open(path);
    expect(again.inputsSince(6)).toEqual([vote(6, 0, 1)]);
    await again.close();
  });

  it("refuses appends after close with a coded error", async () => {
    const { wal } = await ConsensusWal.open(join(dir, "cs.wal"));
    await wal.close();
    await expect(wal.append(vote(1, 0, 1))).rejects.toMatchObject({ code: "CONSENSUS_WAL_CLOSED" });
  });
});
