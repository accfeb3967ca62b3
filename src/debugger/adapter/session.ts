/**
 * The Debug Adapter Protocol over the debug engine: a thin translation (requests → engine and
 * inspector calls, engine events → DAP events). Nothing here decides behaviour.
 */
import { basename } from 'node:path';
import {
  CapabilitiesEvent, DebugSession, ExitedEvent, InitializedEvent, OutputEvent, Source, StackFrame, StoppedEvent, TerminatedEvent, Thread, Event, Handles,
} from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { DebugEngine, LaunchError, dataId, parseDataId, splitFilterCondition, type EndInfo, type StopInfo } from '../engine';
import { inspector } from '../inspect';
import { EvaluateError, type VarNode } from '../model';
import { addAddress, addressBig, formatAddress, parseAddress as parseAddressNumber } from '../address';
import { capabilities, filtersForLaunch } from './capabilities';
import { entryExceptionInfo, exceptionInfo } from './exceptionInfo';
import { bytesHex } from '../../x86/decoded';

const THREAD = 1;
/** Guest addresses to DAP: unsigned 64-bit hex of the debugger's address numbers (src/debugger/address.ts). */
const hex = formatAddress;

/** A variables container: how to list its children. */
type Container = () => VarNode[];

export class VtxDebugSession extends DebugSession {
  private engine: DebugEngine | undefined;
  private readonly containers = new Handles<Container>();
  private configured = false;
  private launched = false;

  constructor() {
    super();
    this.setDebuggerLinesStartAt1(true);
    this.setDebuggerColumnsStartAt1(true);
  }

  /** Run a request body; an error becomes an error response with its message (never a crash). */
  private handle(response: DebugProtocol.Response, body: () => void): void {
    try {
      body();
    } catch (e) {
      const internal = !(e instanceof LaunchError || e instanceof EvaluateError || e instanceof UserError);
      const message = (e as Error).message ?? String(e);
      if (internal) this.sendEvent(new OutputEvent(`vtx: ${response.command}: ${(e as Error).stack ?? message}\n`, 'stderr'));
      this.sendErrorResponse(response, { id: 1, format: message.replace(/[{}]/g, (c) => (c === '{' ? '(' : ')')), showUser: true });
    }
  }

  private need(): DebugEngine {
    if (this.engine === undefined) throw new UserError('no program is loaded (launch first)');
    return this.engine;
  }

  private stopped(): DebugEngine {
    const e = this.need();
    if (e.state !== 'stopped') throw new UserError(e.state === 'running' ? 'the guest is running (pause it first)' : 'the guest has ended');
    return e;
  }

  protected override initializeRequest(response: DebugProtocol.InitializeResponse): void {
    response.body = capabilities();
    this.sendResponse(response);
  }

  protected override launchRequest(response: DebugProtocol.LaunchResponse, args: DebugProtocol.LaunchRequestArguments): void {
    try {
      this.engine = DebugEngine.launch(args, {
        stopped: (s) => this.onStopped(s),
        continued: () => this.sendEvent(new Event('vtx/state', { state: 'running' })),
        // The guest's serial output: the Debug Console, or (serial: "terminal") the extension's terminal.
        output: (text, category) => this.sendEvent(category === 'stdout' && this.engine?.config.serial === 'terminal' ? new Event('vtx/serial', { text }) : new OutputEvent(text, category)),
        ended: (e) => this.onEnded(e),
      });
    } catch (e) {
      const message = e instanceof LaunchError ? e.message : `internal error while loading: ${(e as Error).stack ?? String(e)}`;
      this.sendErrorResponse(response, { id: 2, format: message.replace(/[{}]/g, (c) => (c === '{' ? '(' : ')')), showUser: true });
      this.sendEvent(new TerminatedEvent());
      return;
    }
    this.launched = true;
    this.sendResponse(response);
    // Bare VT-x mode: the guest hypervisor's VM entries become a filter of the Breakpoints view too.
    if (this.engine.bare) this.sendEvent(new CapabilitiesEvent({ exceptionBreakpointFilters: filtersForLaunch(true) }));
    this.sendEvent(new InitializedEvent());
    if (this.configured) this.engine.start();
  }

  protected override configurationDoneRequest(response: DebugProtocol.ConfigurationDoneResponse): void {
    this.configured = true;
    this.sendResponse(response);
    if (this.launched) this.engine!.start();
  }

  private onStopped(s: StopInfo): void {
    this.containers.reset();
    const ev = new StoppedEvent(s.reason, THREAD, s.text) as DebugProtocol.StoppedEvent;
    ev.body.description = s.description;
    ev.body.allThreadsStopped = true;
    if (s.hitBreakpointIds !== undefined) ev.body.hitBreakpointIds = s.hitBreakpointIds;
    this.sendEvent(ev);
    const e = this.engine!;
    this.sendEvent(new Event('vtx/state', {
      state: 'stopped', reason: s.reason, description: s.description, exit: s.exit?.name,
      rip: hex(e.stackFrames(1)[0]?.pc ?? 0), icount: e.m.cpu.icount,
    }));
  }

  private onEnded(e: EndInfo): void {
    this.sendEvent(new OutputEvent(`vtx: ${e.description}\n`, 'console'));
    this.sendEvent(new Event('vtx/state', { state: 'ended', reason: e.reason, description: e.description }));
    this.sendEvent(new ExitedEvent(e.exitCode ?? (e.reason === 'terminated' ? 0 : 1)));
    this.sendEvent(new TerminatedEvent());
  }

  // ---- breakpoints -----------------------------------------------------------------------------
  protected override setBreakPointsRequest(response: DebugProtocol.SetBreakpointsResponse, args: DebugProtocol.SetBreakpointsArguments): void {
    this.handle(response, () => {
      const file = args.source.path ?? args.source.name ?? '';
      const list = (args.breakpoints ?? []).map((b) => ({ line: b.line, condition: b.condition, hitCondition: b.hitCondition, logMessage: b.logMessage }));
      const bps = this.need().setSourceBreakpoints(file, list);
      response.body = {
        breakpoints: bps.map((b) => ({
          id: b.id, verified: b.verified, message: b.message, line: b.line, source: args.source,
          instructionReference: b.addresses.length > 0 ? hex(b.addresses[0]) : undefined,
        })),
      };
      this.sendResponse(response);
    });
  }

  protected override setFunctionBreakPointsRequest(response: DebugProtocol.SetFunctionBreakpointsResponse, args: DebugProtocol.SetFunctionBreakpointsArguments): void {
    this.handle(response, () => {
      const bps = this.need().setFunctionBreakpoints(args.breakpoints);
      response.body = { breakpoints: bps.map((b) => ({ id: b.id, verified: b.verified, message: b.message, instructionReference: b.addresses.length > 0 ? hex(b.addresses[0]) : undefined })) };
      this.sendResponse(response);
    });
  }

  protected override setInstructionBreakpointsRequest(response: DebugProtocol.SetInstructionBreakpointsResponse, args: DebugProtocol.SetInstructionBreakpointsArguments): void {
    this.handle(response, () => {
      const list = args.breakpoints.map((b) => ({ ...b, address: addAddress(parseAddress(b.instructionReference), b.offset ?? 0) }));
      const bps = this.need().setInstructionBreakpoints(list);
      response.body = { breakpoints: bps.map((b) => ({ id: b.id, verified: b.verified, message: b.message, instructionReference: hex(b.addresses[0]) })) };
      this.sendResponse(response);
    });
  }

  protected override setExceptionBreakPointsRequest(response: DebugProtocol.SetExceptionBreakpointsResponse, args: DebugProtocol.SetExceptionBreakpointsArguments): void {
    this.handle(response, () => {
      const specs = [
        ...args.filters.map((f) => ({ filter: f })),
        ...(args.filterOptions ?? []).map((o) => splitFilterCondition(o.filterId, o.condition)),
      ];
      const results = this.need().setExitFilters(specs);
      response.body = { breakpoints: results.map((r) => ({ verified: r.verified, message: r.message })) };
      this.sendResponse(response);
    });
  }

  protected override dataBreakpointInfoRequest(response: DebugProtocol.DataBreakpointInfoResponse, args: DebugProtocol.DataBreakpointInfoArguments): void {
    this.handle(response, () => {
      const accessTypes: DebugProtocol.DataBreakpointAccessType[] = ['read', 'write', 'readWrite'];
      let parsed = parseDataId(args.name);
      if (parsed === undefined && args.variablesReference === undefined && this.engine?.state === 'stopped') {
        // An expression (`rsp`, `buffer + 8`): its value is the linear address.
        try {
          const v = inspector.evaluate(this.engine.target(), args.name, 'watch').result;
          const start = /^0x[0-9a-f]+$/i.test(v) ? parseAddressNumber(v) : undefined;
          if (start !== undefined) parsed = { start, length: args.bytes ?? 8, physical: false };
        } catch {
          // Not an address.
        }
      }
      if (parsed === undefined) {
        response.body = { dataId: null, description: `'${args.name}' is not a guest address (use 0x9000, linear:0x9000:4 or physical:0x9000:4)` };
      } else {
        const kind = parsed.physical ? 'guest-physical' : 'linear';
        response.body = { dataId: dataId(parsed.start, parsed.length, parsed.physical), description: `${parsed.length} bytes at ${kind} ${hex(parsed.start)}`, accessTypes, canPersist: true };
      }
      this.sendResponse(response);
    });
  }

  protected override setDataBreakpointsRequest(response: DebugProtocol.SetDataBreakpointsResponse, args: DebugProtocol.SetDataBreakpointsArguments): void {
    this.handle(response, () => {
      const list = args.breakpoints.map((b) => {
        const p = parseDataId(b.dataId);
        if (p === undefined) throw new UserError(`data breakpoint '${b.dataId}': not a guest address`);
        return { ...p, access: b.accessType ?? 'write', condition: b.condition, hitCondition: b.hitCondition };
      });
      const bps = this.need().setDataBreakpoints(list);
      response.body = { breakpoints: bps.map((b) => ({ id: b.id, verified: b.verified, message: b.message })) };
      this.sendResponse(response);
    });
  }

  // ---- run control -------------------------------------------------------------------------------
  protected override threadsRequest(response: DebugProtocol.ThreadsResponse): void {
    response.body = { threads: [new Thread(THREAD, 'vCPU 0')] };
    this.sendResponse(response);
  }

  protected override continueRequest(response: DebugProtocol.ContinueResponse): void {
    this.handle(response, () => {
      const e = this.stopped();
      response.body = { allThreadsContinued: true };
      this.sendResponse(response);
      e.continue();
    });
  }

  protected override pauseRequest(response: DebugProtocol.PauseResponse): void {
    this.handle(response, () => {
      this.need().pause();
      this.sendResponse(response);
    });
  }

  protected override nextRequest(response: DebugProtocol.NextResponse, args: DebugProtocol.NextArguments): void {
    this.handle(response, () => {
      const e = this.stopped();
      this.sendResponse(response);
      e.next(args.granularity === 'instruction' ? 'instruction' : 'line');
    });
  }

  protected override stepInRequest(response: DebugProtocol.StepInResponse, args: DebugProtocol.StepInArguments): void {
    this.handle(response, () => {
      const e = this.stopped();
      this.sendResponse(response);
      e.stepIn(args.granularity === 'instruction' ? 'instruction' : 'line');
    });
  }

  protected override stepOutRequest(response: DebugProtocol.StepOutResponse): void {
    this.handle(response, () => {
      const e = this.stopped();
      this.sendResponse(response);
      e.stepOut();
    });
  }

  protected override gotoTargetsRequest(response: DebugProtocol.GotoTargetsResponse, args: DebugProtocol.GotoTargetsArguments): void {
    this.handle(response, () => {
      const e = this.stopped();
      const bound = e.info.lines?.bind(args.source.path ?? args.source.name ?? '', args.line);
      response.body = {
        targets: (bound?.addresses ?? []).map((a) => ({ id: a, label: `line ${bound!.line} (${hex(a)})`, line: bound!.line, instructionPointerReference: hex(a) })),
      };
      this.sendResponse(response);
    });
  }

  protected override gotoRequest(response: DebugProtocol.GotoResponse, args: DebugProtocol.GotoArguments): void {
    this.handle(response, () => {
      const e = this.stopped();
      this.containers.reset();
      e.goto(args.targetId);
      this.sendResponse(response);
    });
  }

  /**
   * Restart: the latest launch configuration (`arguments`, sent by clients that support it, with
   * the person's edits to launch.json) is checked and its program loaded before anything changes;
   * a bad one is an error response and the session goes on as it was.
   */
  protected override restartRequest(response: DebugProtocol.RestartResponse, args: DebugProtocol.RestartArguments): void {
    this.handle(response, () => {
      const e = this.need();
      const wasBare = e.bare;
      let go: () => void;
      try {
        go = e.prepareRestart(args?.arguments);
      } catch (err) {
        if (err instanceof LaunchError) throw new LaunchError(`restart: ${err.message}`);
        throw err;
      }
      this.sendResponse(response);
      this.containers.reset();
      go();
      // Switched to or from bare VT-x mode: the vm_entry filter comes or goes.
      if (e.bare !== wasBare) this.sendEvent(new CapabilitiesEvent({ exceptionBreakpointFilters: filtersForLaunch(e.bare) }));
    });
  }

  protected override terminateRequest(response: DebugProtocol.TerminateResponse): void {
    this.sendResponse(response);
    this.engine?.terminate();
  }

  protected override disconnectRequest(response: DebugProtocol.DisconnectResponse): void {
    const e = this.engine;
    this.engine = undefined;
    if (e !== undefined && e.state !== 'ended') e.terminate();
    this.sendResponse(response);
    // The adapter process ends (not when it runs inline in the extension host).
    this.shutdown();
  }

  // ---- state -------------------------------------------------------------------------------------
  protected override stackTraceRequest(response: DebugProtocol.StackTraceResponse, args: DebugProtocol.StackTraceArguments): void {
    this.handle(response, () => {
      const frames = this.stopped().stackFrames();
      const start = args.startFrame ?? 0;
      const list = frames.slice(start, args.levels !== undefined && args.levels > 0 ? start + args.levels : undefined);
      response.body = {
        totalFrames: frames.length,
        stackFrames: list.map((f) => {
          const sf = new StackFrame(f.id, f.name, f.source !== undefined ? new Source(basename(f.source.file), f.source.file) : undefined, f.source?.line ?? 0, f.source?.column ?? 0) as DebugProtocol.StackFrame;
          sf.instructionPointerReference = hex(f.pc);
          if (f.source === undefined) sf.presentationHint = 'subtle';
          return sf;
        }),
      };
      this.sendResponse(response);
    });
  }

  protected override scopesRequest(response: DebugProtocol.ScopesResponse): void {
    this.handle(response, () => {
      const scopes = inspector.scopes(this.stopped().target());
      response.body = {
        scopes: scopes.map((s) => ({ name: s.name, variablesReference: this.containers.create(s.variables), expensive: s.expensive, presentationHint: s.presentationHint })),
      };
      this.sendResponse(response);
    });
  }

  private variable(n: VarNode): DebugProtocol.Variable {
    return {
      name: n.name, value: n.value, type: n.type, evaluateName: n.evaluateName, memoryReference: n.memoryReference,
      variablesReference: n.children !== undefined ? this.containers.create(n.children) : 0,
      presentationHint: n.set === undefined ? { attributes: ['readOnly'] } : undefined,
    };
  }

  protected override variablesRequest(response: DebugProtocol.VariablesResponse, args: DebugProtocol.VariablesArguments): void {
    this.handle(response, () => {
      this.stopped();
      const c = this.containers.get(args.variablesReference);
      if (c === undefined) throw new UserError(`no variables for reference ${args.variablesReference} (stale after the guest ran)`);
      let nodes = c();
      if (args.start !== undefined || args.count !== undefined) nodes = nodes.slice(args.start ?? 0, args.count !== undefined && args.count > 0 ? (args.start ?? 0) + args.count : undefined);
      response.body = { variables: nodes.map((n) => this.variable(n)) };
      this.sendResponse(response);
    });
  }

  protected override setVariableRequest(response: DebugProtocol.SetVariableResponse, args: DebugProtocol.SetVariableArguments): void {
    this.handle(response, () => {
      this.stopped();
      const c = this.containers.get(args.variablesReference);
      const node = c?.().find((n) => n.name === args.name);
      if (node === undefined) throw new UserError(`no variable '${args.name}' here`);
      if (node.set === undefined) throw new UserError(`'${args.name}' is read-only`);
      response.body = { value: node.set(args.value) };
      this.sendResponse(response);
    });
  }

  protected override evaluateRequest(response: DebugProtocol.EvaluateResponse, args: DebugProtocol.EvaluateArguments): void {
    this.handle(response, () => {
      const ctx = (args.context ?? 'repl') as 'watch' | 'hover' | 'repl' | 'clipboard' | 'variables';
      const r = inspector.evaluate(this.stopped().target(), args.expression, ctx);
      response.body = { result: r.result, type: r.type, memoryReference: r.memoryReference, variablesReference: r.children !== undefined ? this.containers.create(r.children) : 0 };
      this.sendResponse(response);
    });
  }

  protected override setExpressionRequest(response: DebugProtocol.SetExpressionResponse, args: DebugProtocol.SetExpressionArguments): void {
    this.handle(response, () => {
      const r = inspector.setExpression(this.stopped().target(), args.expression, args.value);
      response.body = { value: r.result, type: r.type, variablesReference: r.children !== undefined ? this.containers.create(r.children) : 0 };
      this.sendResponse(response);
    });
  }

  protected override completionsRequest(response: DebugProtocol.CompletionsResponse, args: DebugProtocol.CompletionsArguments): void {
    this.handle(response, () => {
      const items = inspector.completions(this.stopped().target(), args.text, args.column);
      response.body = { targets: items.map((i) => ({ label: i.label, type: i.type, detail: i.detail })) };
      this.sendResponse(response);
    });
  }

  protected override exceptionInfoRequest(response: DebugProtocol.ExceptionInfoResponse): void {
    this.handle(response, () => {
      const e = this.stopped();
      const entry = e.lastStop?.entry;
      const exit = e.stoppedOnExit;
      if (entry !== undefined) response.body = entryExceptionInfo(entry, exit);
      else if (exit !== undefined) response.body = exceptionInfo(e, exit);
      else throw new UserError('not stopped on a VM exit');
      this.sendResponse(response);
    });
  }

  // ---- memory and code -----------------------------------------------------------------------------
  protected override disassembleRequest(response: DebugProtocol.DisassembleResponse, args: DebugProtocol.DisassembleArguments): void {
    this.handle(response, () => {
      const e = this.stopped();
      const base = addAddress(parseAddress(args.memoryReference), args.offset ?? 0);
      const list = e.disassemble(base, args.instructionOffset ?? 0, args.instructionCount);
      response.body = {
        instructions: list.map((i) => {
          const pos = e.info.lines?.lineAt(i.address);
          return {
            address: hex(i.address), instructionBytes: bytesHex(i.bytes),
            instruction: i.text, symbol: i.symbol,
            location: pos !== undefined ? new Source(basename(pos.file), pos.file) : undefined, line: pos?.line,
            presentationHint: i.invalid ? 'invalid' as const : undefined,
          };
        }),
      };
      this.sendResponse(response);
    });
  }

  protected override readMemoryRequest(response: DebugProtocol.ReadMemoryResponse, args: DebugProtocol.ReadMemoryArguments): void {
    this.handle(response, () => {
      const e = this.stopped();
      const start = addressBig(addAddress(parseAddress(args.memoryReference), args.offset ?? 0));
      const count = Math.min(args.count, 1 << 20);
      const bytes = e.readMemory(start, count);
      response.body = { address: hex(start), data: Buffer.from(bytes).toString('base64'), unreadableBytes: count - bytes.length };
      this.sendResponse(response);
    });
  }

  protected override writeMemoryRequest(response: DebugProtocol.WriteMemoryResponse, args: DebugProtocol.WriteMemoryArguments): void {
    this.handle(response, () => {
      const e = this.stopped();
      const start = addressBig(addAddress(parseAddress(args.memoryReference), args.offset ?? 0));
      const data = Buffer.from(args.data, 'base64');
      const n = e.writeMemory(start, new Uint8Array(data));
      if (n === 0 && data.length > 0 && args.allowPartial !== true) throw new UserError(`cannot write guest memory at ${hex(start)}`);
      response.body = { bytesWritten: n };
      this.sendResponse(response);
      this.sendEvent(new Event('memory', { memoryReference: args.memoryReference, offset: args.offset ?? 0, count: n }));
    });
  }

  protected override loadedSourcesRequest(response: DebugProtocol.LoadedSourcesResponse): void {
    this.handle(response, () => {
      const e = this.need();
      const files = new Set(e.info.lines?.files() ?? []);
      if (e.image.format === 'asm') files.add(e.image.path);
      response.body = { sources: [...files].map((f) => new Source(basename(f), f)) };
      this.sendResponse(response);
    });
  }

  // ---- vtx's custom requests (the panels) ------------------------------------------------------------
  protected override customRequest(command: string, response: DebugProtocol.Response, args: Record<string, unknown> | undefined): void {
    this.handle(response, () => {
      const t = () => this.stopped().target();
      switch (command) {
        case 'vtx/vmcs': response.body = inspector.vmcsReport(t()); break;
        case 'vtx/ept': response.body = inspector.eptReport(t(), args?.form === 'flat' ? 'flat' : 'tree'); break;
        case 'vtx/exits': response.body = inspector.exitsReport(t(), typeof args?.limit === 'number' ? args.limit : undefined); break;
        case 'vtx/translate': {
          const a = args?.address;
          if (typeof a !== 'string' && typeof a !== 'number') throw new UserError("vtx/translate: 'address' (a number or \"0x...\" string) is required");
          response.body = inspector.translateReport(t(), translateAddress(a), args?.kind === 'physical' ? 'physical' : 'linear');
          break;
        }
        case 'vtx/serialInput': {
          if (typeof args?.text !== 'string') throw new UserError("vtx/serialInput: 'text' (a string) is required");
          this.need().serialInput(new Uint8Array(Buffer.from(args.text, 'utf8')));
          break;
        }
        default:
          throw new UserError(`unknown request '${command}'`);
      }
      this.sendResponse(response);
    });
  }
}

/** A mistake of the person (or the client), reported as such. */
class UserError extends Error {}

/** "0x1000", "0xffffffff80001000" or "4096" → the debugger's address number (src/debugger/address.ts). */
function parseAddress(ref: string): number {
  const t = ref.trim();
  const a = /^(0x[0-9a-f]+|\d+)$/i.test(t) ? parseAddressNumber(t) : undefined;
  if (a === undefined) throw new UserError(`'${ref}' is not a memory reference (0x... up to 64 bits, canonical)`);
  return a;
}

/** vtx/translate's address: "0x…" (the full 64-bit form) or a number (an address number: negative is the upper half). */
function translateAddress(a: string | number): bigint {
  if (typeof a === 'number') {
    if (!Number.isSafeInteger(a)) throw new UserError(`vtx/translate: ${a} is not an address`);
    return addressBig(a);
  }
  const t = a.trim();
  if (!/^(0x[0-9a-f]{1,16}|\d{1,20})$/i.test(t) || BigInt(t) >= 1n << 64n) throw new UserError(`vtx/translate: '${a}' is not an address (0x... up to 64 bits)`);
  return BigInt(t);
}
