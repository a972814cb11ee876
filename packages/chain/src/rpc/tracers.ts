import type { EVMInterface, EVMResult, InterpreterStep, Message } from "@ethereumjs/evm";
import { bytesToHex, toQuantity } from "@zgnode/utils";
import { decodeRevertReason } from "./call.ts";

/**
 * debug_trace* tracers over @ethereumjs EVM events: geth's default struct logger (opcode-level) and the
 * callTracer (call frames). Each tracer attaches to an EVM for one transaction and detaches after.
 */

export interface StructLoggerConfig {
  disableStack?: boolean;
  disableStorage?: boolean;
  enableMemory?: boolean;
  enableReturnData?: boolean;
  limit?: number;
}

export interface StructLog {
  pc: number;
  op: string;
  gas: number;
  gasCost: number;
  depth: number;
  stack?: string[];
  memory?: string[];
  storage?: Record<string, string>;
  refund?: number;
  error?: string;
}

export interface StructTraceResult {
  gas: number;
  failed: boolean;
  returnValue: string;
  structLogs: StructLog[];
}

type Detach = () => void;

function hex32(n: bigint): string {
  return `0x${n.toString(16).padStart(64, "0")}`;
}

export class StructLogger {
  readonly logs: StructLog[] = [];
  private readonly config: StructLoggerConfig;
  /** Storage seen per contract address, as geth's logger accumulates it. */
  private readonly storage = new Map<string, Record<string, string>>();

  constructor(config: StructLoggerConfig = {}) {
    this.config = config;
  }

  attach(evm: EVMInterface): Detach {
    const events = evm.events!;
    const onStep = (step: InterpreterStep, resolve?: (r?: unknown) => void) => {
      this.step(step).then(
        () => resolve?.(),
        () => resolve?.(),
      );
    };
    events.on("step", onStep);
    return () => {
      events.off("step", onStep);
    };
  }

  private async step(step: InterpreterStep): Promise<void> {
    if (this.config.limit !== undefined && this.config.limit > 0 && this.logs.length >= this.config.limit) return;
    const log: StructLog = {
      pc: step.pc,
      op: step.opcode.name,
      gas: Number(step.gasLeft),
      gasCost: Number(step.opcode.dynamicFee ?? BigInt(step.opcode.fee)),
      depth: step.depth + 1,
    };
    if (this.config.disableStack !== true) log.stack = step.stack.map((v) => toQuantity(v));
    if (this.config.enableMemory === true && step.memoryWordCount > 0n) {
      const words: string[] = [];
      const size = Number(step.memoryWordCount) * 32;
      for (let i = 0; i < size; i += 32) {
        const chunk = new Uint8Array(32);
        chunk.set(step.memory.subarray(i, Math.min(i + 32, step.memory.length)));
        words.push(bytesToHex(chunk));
      }
      log.memory = words;
    }
    if (this.config.disableStorage !== true && (step.opcode.name === "SLOAD" || step.opcode.name === "SSTORE")) {
      const addr = step.address.toString();
      let seen = this.storage.get(addr);
      if (seen === undefined) {
        seen = {};
        this.storage.set(addr, seen);
      }
      const stack = step.stack;
      if (step.opcode.name === "SSTORE" && stack.length >= 2) {
        seen[hex32(stack[stack.length - 1]!)] = hex32(stack[stack.length - 2]!);
      } else if (step.opcode.name === "SLOAD" && stack.length >= 1) {
        const key = stack[stack.length - 1]!;
        const keyBytes = new Uint8Array(32);
        let k = key;
        for (let i = 31; i >= 0; i--) {
          keyBytes[i] = Number(k & 0xffn);
          k >>= 8n;
        }
        const value = await step.stateManager.getStorage(step.address, keyBytes);
        let v = 0n;
        for (const b of value) v = (v << 8n) | BigInt(b);
        seen[hex32(key)] = hex32(v);
      }
      log.storage = { ...seen };
    }
    if (step.gasRefund > 0n) log.refund = Number(step.gasRefund);
    this.logs.push(log);
  }

  result(gasUsed: bigint, failed: boolean, returnValue: Uint8Array): StructTraceResult {
    return { gas: Number(gasUsed), failed, returnValue: bytesToHex(returnValue), structLogs: this.logs };
  }
}

export interface CallFrame {
  type: string;
  from: string;
  to?: string;
  value?: string;
  gas: string;
  gasUsed: string;
  input: string;
  output?: string;
  error?: string;
  revertReason?: string;
  calls?: CallFrame[];
}

const CALL_OPS = new Set(["CALL", "CALLCODE", "DELEGATECALL", "STATICCALL", "CREATE", "CREATE2", "SELFDESTRUCT"]);

export class CallTracer {
  private readonly stack: CallFrame[] = [];
  private root: CallFrame | undefined;
  private lastCallOp = "CALL";
  private readonly onlyTopCall: boolean;

  constructor(config: { onlyTopCall?: boolean } = {}) {
    this.onlyTopCall = config.onlyTopCall === true;
  }

  attach(evm: EVMInterface): Detach {
    const events = evm.events!;
    const onStep = (step: InterpreterStep) => {
      if (CALL_OPS.has(step.opcode.name)) this.lastCallOp = step.opcode.name;
    };
    const onBefore = (msg: Message) => this.enter(msg);
    const onAfter = (res: EVMResult) => this.exit(res);
    events.on("step", onStep);
    events.on("beforeMessage", onBefore);
    events.on("afterMessage", onAfter);
    return () => {
      events.off("step", onStep);
      events.off("beforeMessage", onBefore);
      events.off("afterMessage", onAfter);
    };
  }

  private enter(msg: Message): void {
    const isTop = this.stack.length === 0;
    let type: string;
    if (isTop) type = msg.to === undefined ? "CREATE" : "CALL";
    else if (msg.delegatecall) type = "DELEGATECALL";
    else type = this.lastCallOp === "SELFDESTRUCT" ? "CALL" : this.lastCallOp;
    if (msg.to === undefined && !isTop) type = this.lastCallOp === "CREATE2" ? "CREATE2" : "CREATE";
    const frame: CallFrame = {
      type,
      from: msg.caller.toString(),
      gas: toQuantity(msg.gasLimit),
      gasUsed: "0x0",
      input: bytesToHex(msg.data instanceof Uint8Array ? msg.data : new Uint8Array()),
    };
    if (msg.to !== undefined) frame.to = msg.to.toString();
    if (type !== "DELEGATECALL" && type !== "STATICCALL") frame.value = toQuantity(msg.value);
    if (isTop) this.root = frame;
    else if (!this.onlyTopCall) {
      const parent = this.stack[this.stack.length - 1]!;
      parent.calls ??= [];
      parent.calls.push(frame);
    }
    this.stack.push(frame);
  }

  private exit(res: EVMResult): void {
    const frame = this.stack.pop();
    if (frame === undefined) return;
    const ex = res.execResult;
    frame.gasUsed = toQuantity(ex.executionGasUsed);
    if (res.createdAddress !== undefined && frame.to === undefined) frame.to = res.createdAddress.toString();
    if (ex.returnValue.length > 0 || ex.exceptionError === undefined) frame.output = bytesToHex(ex.returnValue);
    if (ex.exceptionError !== undefined) {
      frame.error = ex.exceptionError.error === "revert" ? "execution reverted" : ex.exceptionError.error;
      const reason = ex.exceptionError.error === "revert" ? decodeRevertReason(ex.returnValue) : undefined;
      if (reason !== undefined) frame.revertReason = reason;
      if (frame.type.startsWith("CREATE")) delete frame.to;
    }
  }

  /** The top frame; `gas`/`gasUsed` of the top call are the tx's gas limit and total gas used, as geth reports. */
  result(txGasLimit: bigint, txGasUsed: bigint): CallFrame | undefined {
    if (this.root === undefined) return undefined;
    this.root.gas = toQuantity(txGasLimit);
    this.root.gasUsed = toQuantity(txGasUsed);
    return this.root;
  }
}
