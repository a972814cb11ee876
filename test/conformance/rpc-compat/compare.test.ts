import { describe, expect, it } from "vitest";
import { compareResponse, diffJson } from "./compare.ts";
import { FixtureFormatError, parseFixture } from "./fixtures.ts";

describe("hive rpc-compat comparison rules", () => {
  it("requires exact structure: missing and extra keys fail, key order does not matter", () => {
    expect(compareResponse('{"id":1,"result":{"a":"0x1","b":[1,2]}}', '{"result":{"b":[1,2],"a":"0x1"},"id":1}')).toBeUndefined();
    expect(compareResponse('{"id":1,"result":{"a":"0x1"}}', '{"id":1,"result":{"a":"0x1","b":null}}')).toMatch(/b: missing/);
    expect(compareResponse('{"id":1,"result":{"a":"0x1","totalDifficulty":"0x0"}}', '{"id":1,"result":{"a":"0x1"}}')).toMatch(
      /unexpected key/,
    );
    expect(compareResponse('{"id":1,"result":[2,1]}', '{"id":1,"result":[1,2]}')).toMatch(/\[0\]/);
  });

  it("compares numbers by value and strings exactly", () => {
    expect(diffJson(1.0, 1)).toBeUndefined();
    expect(compareResponse('{"id":1,"result":0.50}', '{"id":1,"result":0.5}')).toBeUndefined();
    expect(compareResponse('{"id":1,"result":"0x01"}', '{"id":1,"result":"0x1"}')).toMatch(/result/);
    expect(compareResponse('{"id":"1","result":1}', '{"id":1,"result":1}')).toMatch(/id/);
  });

  it("ignores error messages where both sides hold an error, but not codes or data", () => {
    expect(
      compareResponse('{"id":1,"error":{"code":-32602,"message":"bad"}}', '{"id":1,"error":{"code":-32602,"message":"other"}}'),
    ).toBeUndefined();
    expect(
      compareResponse('{"id":1,"error":{"code":-32000,"message":"x"}}', '{"id":1,"error":{"code":-32602,"message":"x"}}'),
    ).toMatch(/code/);
    expect(
      compareResponse(
        '{"id":1,"error":{"code":3,"message":"x","data":"0x01"}}',
        '{"id":1,"error":{"code":3,"message":"y","data":"0x02"}}',
      ),
    ).toMatch(/data/);
    // Nested errors (eth_simulateV1 per-call errors) follow the same rule.
    expect(
      compareResponse(
        '{"id":1,"result":[{"calls":[{"error":{"code":3,"message":"a"}}]}]}',
        '{"id":1,"result":[{"calls":[{"error":{"code":3,"message":"b"}}]}]}',
      ),
    ).toBeUndefined();
    // A result where an error is expected fails.
    expect(compareResponse('{"id":1,"result":"0x1"}', '{"id":1,"error":{"code":3,"message":"b"}}')).toBeDefined();
    expect(compareResponse("not json", '{"id":1}')).toMatch(/not JSON/);
  });
});

describe("fixture files", () => {
  it("parses comments, speconly and request/response pairs", () => {
    const f = parseFixture(
      "eth_x/a.io",
      '// first\n// speconly: schema only\n>> {"id":1}\n<< {"id":1,"result":1}\n\n>> {"id":2}\n<< {"id":2,"result":2}\n',
    );
    expect(f).toMatchObject({ method: "eth_x", specOnly: true, comment: "first\nspeconly: schema only" });
    expect(f.roundTrips).toEqual([
      { request: '{"id":1}', expected: '{"id":1,"result":1}' },
      { request: '{"id":2}', expected: '{"id":2,"result":2}' },
    ]);
    expect(parseFixture("m/b.io", ">> {}\n<< {}\n").specOnly).toBe(false);
  });

  it("rejects malformed files", () => {
    expect(() => parseFixture("m/c.io", ">> {}\n>> {}\n")).toThrow(FixtureFormatError);
    expect(() => parseFixture("m/c.io", "<< {}\n")).toThrow(FixtureFormatError);
    expect(() => parseFixture("m/c.io", ">> {}\n")).toThrow(FixtureFormatError);
    expect(() => parseFixture("m/c.io", "garbage\n")).toThrow(FixtureFormatError);
  });
});
