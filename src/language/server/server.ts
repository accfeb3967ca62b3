/**
 * The vtx assembly language server (LSP over stdio or IPC): diagnostics as you type, hovers
 * that explain encodings and VM exits, completion, go to definition, references, rename,
 * document symbols and semantic tokens — all from the same assembler as `vtx asm`.
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  CompletionItemKind, DiagnosticSeverity, ProposedFeatures, SymbolKind, TextDocumentSyncKind, TextDocuments, createConnection,
  type CompletionItem, type Connection, type Diagnostic, type DocumentSymbol, type Location, type WorkspaceEdit,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { analyze, occurrences, qualify, wordAt, type Analysis } from './analysis';
import { hoverAt } from './hover';
import { completionsAt, type ItemKind } from './completion';
import { outline, semanticTokens, TOKEN_TYPES, type OutlineSymbol } from './symbols';
import { diskReader } from '../asm/fileReader';
import type { FileReader } from '../asm/preprocessor';

const KIND: Record<ItemKind, CompletionItemKind> = {
  keyword: CompletionItemKind.Keyword, register: CompletionItemKind.Variable, directive: CompletionItemKind.Keyword,
  label: CompletionItemKind.Reference, constant: CompletionItemKind.Constant, macro: CompletionItemKind.Function,
  field: CompletionItemKind.Field,
};
const SYMBOL_KIND: Record<OutlineSymbol['kind'], SymbolKind> = {
  function: SymbolKind.Function, constant: SymbolKind.Constant, macro: SymbolKind.Function, field: SymbolKind.Field,
  namespace: SymbolKind.Namespace,
};

function pathOf(uri: string): string {
  try {
    return uri.startsWith('file:') ? fileURLToPath(uri) : uri;
  } catch {
    return uri;
  }
}

export function startServer(connection: Connection): void {
  const documents = new TextDocuments(TextDocument);
  const cache = new Map<string, { version: number; analysis: Analysis }>();

  const reader: FileReader = {
    read(name, from) {
      // Open editors win over the disk (unsaved include files).
      const disk = diskReader().read(name, from);
      if (disk === null) return null;
      const open = documents.get(pathToFileURL(disk.path).toString());
      return open !== undefined ? { path: disk.path, text: open.getText() } : disk;
    },
  };

  const analysisOf = (uri: string): Analysis | null => {
    const doc = documents.get(uri);
    if (doc === undefined) return null;
    const c = cache.get(uri);
    if (c !== undefined && c.version === doc.version) return c.analysis;
    const analysis = analyze(doc.getText(), uri, pathOf(uri), reader);
    cache.set(uri, { version: doc.version, analysis });
    return analysis;
  };

  const publish = (uri: string): void => {
    const a = analysisOf(uri);
    if (a === null) return;
    const diagnostics: Diagnostic[] = a.result.diagnostics.map((d) => {
      const here = d.file === a.file;
      const line = here ? d.line - 1 : includeLine(a, d.file);
      const len = here ? Math.max(1, d.length) : (a.lines[line]?.length ?? 1);
      return {
        range: { start: { line, character: here ? d.col : 0 }, end: { line, character: (here ? d.col : 0) + len } },
        severity: d.severity === 'error' ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
        source: 'vtx',
        message: here ? d.message : `${d.file}:${d.line}: ${d.message}`,
      };
    });
    void connection.sendDiagnostics({ uri, diagnostics });
  };

  connection.onInitialize(() => ({
    capabilities: {
      textDocumentSync: TextDocumentSyncKind.Incremental,
      hoverProvider: true,
      completionProvider: { triggerCharacters: ['.', '%'] },
      definitionProvider: true,
      referencesProvider: true,
      renameProvider: { prepareProvider: true },
      documentSymbolProvider: true,
      semanticTokensProvider: { legend: { tokenTypes: [...TOKEN_TYPES], tokenModifiers: [] }, full: true },
    },
    serverInfo: { name: 'vtx-asm' },
  }));

  documents.onDidChangeContent((e) => publish(e.document.uri));
  documents.onDidClose((e) => {
    cache.delete(e.document.uri);
    void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
  });

  connection.onHover((p) => {
    const a = analysisOf(p.textDocument.uri);
    const text = a === null ? null : hoverAt(a, p.position.line, p.position.character);
    return text === null ? null : { contents: { kind: 'markdown', value: text } };
  });

  connection.onCompletion((p): CompletionItem[] => {
    const a = analysisOf(p.textDocument.uri);
    if (a === null) return [];
    return completionsAt(a, p.position.line, p.position.character).map((i) => ({
      label: i.label, kind: KIND[i.kind], detail: i.detail, insertText: i.insertText,
    }));
  });

  const target = (uri: string, line: number, character: number): { a: Analysis; name: string } | null => {
    const a = analysisOf(uri);
    if (a === null) return null;
    const w = wordAt(a, line, character);
    if (w === null) return null;
    const name = qualify(a, line, w.text);
    const known = a.labels.some((d) => d.name === name) || a.result.symbols.has(name);
    return known ? { a, name } : null;
  };

  connection.onDefinition((p): Location | null => {
    const t = target(p.textDocument.uri, p.position.line, p.position.character);
    if (t === null) return null;
    const d = t.a.labels.find((x) => x.name === t.name);
    if (d !== undefined) return { uri: p.textDocument.uri, range: { start: { line: d.line, character: d.col }, end: { line: d.line, character: d.col + d.text.length } } };
    const s = t.a.result.symbols.get(t.name);
    if (s === undefined) return null;
    return { uri: pathToFileURL(s.file).toString(), range: { start: { line: s.line - 1, character: s.col }, end: { line: s.line - 1, character: s.col + s.name.length } } };
  });

  connection.onReferences((p): Location[] => {
    const t = target(p.textDocument.uri, p.position.line, p.position.character);
    if (t === null) return [];
    return occurrences(t.a, t.name)
      .filter((o) => p.context.includeDeclaration || !t.a.labels.some((d) => d.name === t.name && d.line === o.line && d.col === o.col))
      .map((o) => ({ uri: p.textDocument.uri, range: { start: { line: o.line, character: o.col }, end: { line: o.line, character: o.col + o.length } } }));
  });

  connection.onPrepareRename((p) => {
    const t = target(p.textDocument.uri, p.position.line, p.position.character);
    if (t === null) return null;
    const w = wordAt(t.a, p.position.line, p.position.character)!;
    return { range: { start: { line: p.position.line, character: w.start }, end: { line: p.position.line, character: w.end } }, placeholder: w.text };
  });

  connection.onRenameRequest((p): WorkspaceEdit | null => {
    const t = target(p.textDocument.uri, p.position.line, p.position.character);
    if (t === null) return null;
    if (!/^[A-Za-z_.?$@][\w.?$@#~]*$/.test(p.newName)) throw new Error(`'${p.newName}' is not a valid label name`);
    const local = t.a.labels.find((d) => d.name === t.name)?.text.startsWith('.') === true;
    const edits = occurrences(t.a, t.name).map((o) => {
      const written = t.a.lines[o.line].slice(o.col, o.col + o.length);
      // A local label written in full (`start.loop`) keeps its prefix.
      const newText = local && !written.startsWith('.') ? written.slice(0, written.length - t.name.length) + t.name.replace(/\.[^.]*$/, '') + p.newName : p.newName;
      return { range: { start: { line: o.line, character: o.col }, end: { line: o.line, character: o.col + o.length } }, newText };
    });
    return { changes: { [p.textDocument.uri]: edits } };
  });

  connection.onDocumentSymbol((p): DocumentSymbol[] => {
    const a = analysisOf(p.textDocument.uri);
    if (a === null) return [];
    const conv = (s: OutlineSymbol): DocumentSymbol => ({
      name: s.name, kind: SYMBOL_KIND[s.kind], detail: s.detail,
      range: { start: { line: s.line, character: 0 }, end: { line: s.endLine, character: a.lines[s.endLine]?.length ?? 0 } },
      selectionRange: { start: { line: s.line, character: s.col }, end: { line: s.line, character: s.col + s.length } },
      children: s.children.map(conv),
    });
    return outline(a).map(conv);
  });

  connection.languages.semanticTokens.on((p) => {
    const a = analysisOf(p.textDocument.uri);
    if (a === null) return { data: [] };
    const data: number[] = [];
    let pl = 0, pc = 0;
    for (const [line, col, len, type] of semanticTokens(a)) {
      data.push(line - pl, line === pl ? col - pc : col, len, type, 0);
      pl = line;
      pc = col;
    }
    return { data };
  });

  documents.listen(connection);
  connection.listen();
}

/** The line of `a` that (directly) includes `file`, for reporting an error inside it. */
function includeLine(a: Analysis, file: string): number {
  const base = file.split(/[\\/]/).pop() ?? file;
  const i = a.lines.findIndex((l) => /^\s*%include\b/i.test(l) && l.includes(base));
  return i < 0 ? 0 : i;
}

/** Entry point (dist/languageServer.js): stdio, IPC or socket as the client asks. */
export function main(): void {
  startServer(createConnection(ProposedFeatures.all));
}
