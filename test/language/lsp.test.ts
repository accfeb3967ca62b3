/**
 * The language server over LSP: started as its own process (as VS Code starts it), driven by a
 * client built from vscode-languageserver-protocol.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import {
  createProtocolConnection, StreamMessageReader, StreamMessageWriter, type ProtocolConnection, InitializeRequest,
  DidOpenTextDocumentNotification, DidChangeTextDocumentNotification, PublishDiagnosticsNotification, HoverRequest,
  CompletionRequest, DefinitionRequest, ReferencesRequest, RenameRequest, DocumentSymbolRequest, SemanticTokensRequest,
  type PublishDiagnosticsParams, type Hover, type CompletionItem, type Location, type WorkspaceEdit, type DocumentSymbol,
  type MarkupContent,
} from 'vscode-languageserver-protocol/node';

const ROOT = join(__dirname, '..', '..');
const URI = 'file:///tmp/vtx-lsp-test/guest.asm';
const SOURCE = [
  'bits 16',                          // 0
  'org 0x7c00',                       // 1
  'PORT equ 0x604',                   // 2
  'start:',                           // 3
  '    mov dx, PORT',                 // 4
  '    mov ax, 0x2000',               // 5
  '    out dx, ax',                   // 6
  '    cpuid',                        // 7
  '    hlt',                          // 8
  '.spin:',                           // 9
  '    jmp .spin',                    // 10
  '    out 0x80, al',                 // 11
  '    mov ecx, 0x803',               // 12
  '    rdmsr',                        // 13
  '    ud2                ; GUEST_RIP', // 14
  'other:',                           // 15
  '    jmp start',                    // 16
].join('\n');

let server: ChildProcess;
let conn: ProtocolConnection;
const diagnostics: PublishDiagnosticsParams[] = [];
let waiters: (() => void)[] = [];

async function nextDiagnostics(): Promise<PublishDiagnosticsParams> {
  const n = diagnostics.length;
  while (diagnostics.length === n) await new Promise<void>((r) => waiters.push(r));
  return diagnostics[diagnostics.length - 1];
}

const pos = (line: number, character: number) => ({ textDocument: { uri: URI }, position: { line, character } });
const hoverText = async (line: number, character: number): Promise<string> => {
  const h = await conn.sendRequest(HoverRequest.type, pos(line, character)) as Hover | null;
  return h === null ? '' : (h.contents as MarkupContent).value;
};

describe('language server over LSP', () => {
  before(async () => {
    server = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/language/server/main.ts'), '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
    conn = createProtocolConnection(new StreamMessageReader(server.stdout!), new StreamMessageWriter(server.stdin!));
    conn.onNotification(PublishDiagnosticsNotification.type, (p) => {
      diagnostics.push(p);
      const w = waiters;
      waiters = [];
      for (const f of w) f();
    });
    conn.listen();
    const init = await conn.sendRequest(InitializeRequest.type, { processId: process.pid, rootUri: null, capabilities: {} });
    assert.equal(init.capabilities.hoverProvider, true);
    const d = nextDiagnostics();
    await conn.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri: URI, languageId: 'vtx-asm', version: 1, text: SOURCE } });
    assert.deepEqual((await d).diagnostics, []);
  });

  after(() => {
    conn.dispose();
    server.kill();
  });

  it('publishes diagnostics as the document changes, with line and column', async () => {
    const d = nextDiagnostics();
    await conn.sendNotification(DidChangeTextDocumentNotification.type, {
      textDocument: { uri: URI, version: 2 },
      contentChanges: [{ range: { start: { line: 8, character: 4 }, end: { line: 8, character: 7 } }, text: 'mov al, bx' }],
    });
    const p = await d;
    assert.equal(p.diagnostics.length, 1);
    assert.equal(p.diagnostics[0].range.start.line, 8);
    assert.match(p.diagnostics[0].message, /invalid combination of opcode and operands for 'mov' \(r8, r16\) in 16-bit code/);
    const back = nextDiagnostics();
    await conn.sendNotification(DidChangeTextDocumentNotification.type, {
      textDocument: { uri: URI, version: 3 },
      contentChanges: [{ range: { start: { line: 8, character: 4 }, end: { line: 8, character: 14 } }, text: 'hlt' }],
    });
    assert.deepEqual((await back).diagnostics, []);
  });

  it('hovers explain encodings and VM exits', async () => {
    const cpuid = await hoverText(7, 6);
    assert.match(cpuid, /\*\*CPUID\*\*/);
    assert.match(cpuid, /Encoding: `0f a2`/);
    assert.match(cpuid, /Always causes a VM exit.*exit reason 10, CPUID/);
    const hlt = await hoverText(8, 5);
    assert.match(hlt, /Exits if "HLT exiting".*exit reason 12, HLT.*does not set it/);
    const out = await hoverText(6, 5);
    assert.match(out, /Exits if port 0x604 is intercepted in the I\/O bitmap \(exit reason 30, IO_INSTRUCTION\) — the default configuration intercepts it/);
    assert.match(out, /ACPI power-off/);
    const out80 = await hoverText(11, 5);
    assert.match(out80, /port 0x80 .* does not intercept it/);
    const rdmsr = await hoverText(13, 5);
    assert.match(rdmsr, /MSR 0x803 is intercepted .* the default configuration intercepts it/);
    const ud2 = await hoverText(14, 5);
    assert.match(ud2, /exception bitmap .* intercepts vector 6/);
    const jmp = await hoverText(10, 5);
    assert.match(jmp, /does not cause a VM exit/);
    assert.match(jmp, /Encoding: `eb fe`/);
    assert.match(await hoverText(4, 13), /\*\*PORT\*\* — constant = 0x604/);
    assert.match(await hoverText(3, 2), /\*\*start\*\* — label = 0x7c00/);
    assert.match(await hoverText(14, 30), /GUEST_RIP\*\* — VMCS field 0x681e/);
  });

  it('completes mnemonics, registers, labels and VMCS fields', async () => {
    const first = await conn.sendRequest(CompletionRequest.type, pos(16, 4)) as CompletionItem[];
    assert.ok(first.some((i) => i.label === 'vmlaunch'));
    assert.ok(first.some((i) => i.label === '%macro'));
    const operand = await conn.sendRequest(CompletionRequest.type, pos(16, 8)) as CompletionItem[];
    assert.ok(operand.some((i) => i.label === 'start'));
    assert.ok(operand.some((i) => i.label === 'rax'));
    const comment = await conn.sendRequest(CompletionRequest.type, pos(14, 30)) as CompletionItem[];
    assert.ok(comment.some((i) => i.label === 'EXIT_QUALIFICATION'));
  });

  it('goes to definitions, finds references and renames labels (local ones too)', async () => {
    const def = await conn.sendRequest(DefinitionRequest.type, pos(16, 9)) as Location;
    assert.deepEqual(def.range.start, { line: 3, character: 0 });
    const refs = await conn.sendRequest(ReferencesRequest.type, { ...pos(10, 9), context: { includeDeclaration: true } }) as Location[];
    assert.deepEqual(refs.map((r) => [r.range.start.line, r.range.start.character]), [[9, 0], [10, 8]]);
    const edit = await conn.sendRequest(RenameRequest.type, { ...pos(3, 1), newName: 'entry' }) as WorkspaceEdit;
    const edits = edit.changes![URI];
    assert.deepEqual(edits.map((e) => [e.range.start.line, e.range.start.character, e.newText]), [[3, 0, 'entry'], [16, 8, 'entry']]);
  });

  it('lists document symbols and semantic tokens', async () => {
    const syms = await conn.sendRequest(DocumentSymbolRequest.type, { textDocument: { uri: URI } }) as DocumentSymbol[];
    assert.deepEqual(syms.map((s) => s.name), ['PORT', 'start', 'other']);
    assert.deepEqual(syms[1].children!.map((s) => s.name), ['.spin']);
    const toks = await conn.sendRequest(SemanticTokensRequest.type, { textDocument: { uri: URI } });
    assert.ok(toks !== null && toks.data.length >= 5 * 4, 'tokens for PORT, start, .spin and their uses');
  });
});
