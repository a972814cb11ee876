import { streamPair } from "@libp2p/utils";
import { sleep } from "@zgnode/utils";
import { describe, expect, it } from "vitest";
import { NetworkErrorCode } from "../src/errors.ts";
import { readAll } from "../src/streamRead.ts";

const bytes = (n: number, fill = 7) => new Uint8Array(n).fill(fill);

describe("readAll", () => {
  it("reads bytes that arrived with the remote's close before anyone listened", async () => {
    const [outbound, inbound] = await streamPair();
    outbound.send(bytes(25));
    await outbound.close();
    // Let the data and the close land in the inbound stream's buffer before reading starts: a libp2p handler that
    // starts late sees exactly this, and the stream's async iterator then waits for an end that already passed.
    await sleep(50);
    const read = await Promise.race([readAll(inbound, 1024), sleep(2000).then(() => "hung" as const)]);
    expect(read).toEqual(bytes(25));
  });

  it("reads what is sent in several pieces while it listens, until the remote closes", async () => {
    const [outbound, inbound] = await streamPair();
    const reading = readAll(inbound, 1024);
    for (let i = 0; i < 4; i++) {
      outbound.send(bytes(10, i));
      await sleep(5);
    }
    await outbound.close();
    expect(await reading).toEqual(Uint8Array.from([...bytes(10, 0), ...bytes(10, 1), ...bytes(10, 2), ...bytes(10, 3)]));
  });

  it("aborts the stream past `max` bytes and when the signal fires", async () => {
    const [outbound, inbound] = await streamPair();
    const tooBig = readAll(inbound, 16);
    outbound.send(bytes(17));
    await expect(tooBig).rejects.toMatchObject({ code: NetworkErrorCode.MESSAGE_TOO_LARGE });
    expect(inbound.status).toBe("aborted");

    const [, silent] = await streamPair();
    await expect(readAll(silent, 16, AbortSignal.timeout(50))).rejects.toMatchObject({
      code: NetworkErrorCode.REQUEST_TIMEOUT,
    });
    expect(silent.status).toBe("aborted");
  });
});
