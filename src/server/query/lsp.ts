/**
 * SGQL in the language server: diagnostics as you type, completion (tables, columns, functions with their
 * signatures, and metric names, labels and values from the live store), hovers (docs; metric names get the
 * same live-value hover as in code), signature help, formatting, go to the definition of a `let`, Run Query
 * code lenses, and the `streamgate/query/run` request the results panel and notebooks use. main.ts hands
 * documents of language `sgql` here.
 */
import {
  ErrorCodes,
  ResponseError,
  type CodeAction,
  type CodeLens,
  type CompletionList,
  type Connection,
  type Diagnostic,
  type Hover,
  type Location,
  type ServerCapabilities,
  type SignatureHelp,
  type TextDocuments,
  type TextEdit,
} from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { errorMessage, type Logger } from '../../common/logger';
import { RUN_QUERY_COMMAND, QueryRunRequest, type RunQueryArgs } from '../../protocol/lsp';
import { QueryRequestSchema } from '../../protocol/query';
import { check } from '../../protocol/schema';
import type { AnalyticsApi } from '../analytics/api';
import { metricHover } from '../lsp/insights';
import { analyzeAt, complete, definition, format, hover, querySpans, resolveCompletion, signatureHelp } from './features';
import { CatalogCache, type QueryService } from './service';

export const QUERY_LANGUAGE_ID = 'sgql';

export const QUERY_CAPABILITIES: ServerCapabilities = {
  completionProvider: { triggerCharacters: ['|', '.', '"', "'", '(', ' ', '['], resolveProvider: true },
  signatureHelpProvider: { triggerCharacters: ['(', ','], retriggerCharacters: [','] },
  documentFormattingProvider: true,
  definitionProvider: true,
  codeActionProvider: { codeActionKinds: ['quickfix'] },
};

export interface QueryLanguageHost {
  connection: Connection;
  documents: TextDocuments<TextDocument>;
  queries: () => QueryService;
  analytics: () => AnalyticsApi;
  /** Whether NATS is connected (live hovers need the fleet). */
  live: () => boolean;
  log: Logger;
}

export function isQueryDocument(document: TextDocument): boolean {
  return document.languageId === QUERY_LANGUAGE_ID || document.uri.endsWith('.sgql');
}

/** The document when it is SGQL (other documents belong to main.ts's features). */
function sgql(document: TextDocument | undefined): TextDocument | undefined {
  return document && isQueryDocument(document) ? document : undefined;
}

export class QueryLanguage {
  readonly catalog: CatalogCache;
  private readonly pending = new Map<string, NodeJS.Timeout>();

  constructor(private readonly host: QueryLanguageHost) {
    this.catalog = new CatalogCache(() => {
      try {
        return host.queries();
      } catch {
        return undefined;
      }
    }, (error) => host.log.debug(`query catalog: ${errorMessage(error)}`));
    const { connection, documents } = host;
    documents.onDidChangeContent(({ document }) => this.scheduleDiagnostics(document));
    documents.onDidClose(({ document }) => {
      if (!isQueryDocument(document)) return;
      clearTimeout(this.pending.get(document.uri));
      this.pending.delete(document.uri);
      void connection.sendDiagnostics({ uri: document.uri, diagnostics: [] });
    });
    connection.onCompletion(({ textDocument, position }): CompletionList | null => {
      const document = sgql(documents.get(textDocument.uri));
      if (!document) return null;
      const offset = document.offsetAt(position);
      const { items, replace } = complete(document.getText(), offset, this.catalog.get());
      const range = { start: document.positionAt(replace.start), end: document.positionAt(replace.end) };
      return { isIncomplete: false, items: items.map((item) => ({ ...item, textEdit: { range, newText: item.insertText ?? item.label } })) };
    });
    connection.onCompletionResolve((item) => resolveCompletion(item));
    connection.onSignatureHelp(({ textDocument, position }): SignatureHelp | null => {
      const document = sgql(documents.get(textDocument.uri));
      if (!document) return null;
      const help = signatureHelp(document.getText(), document.offsetAt(position));
      if (!help) return null;
      return {
        signatures: [{ label: help.label, documentation: { kind: 'markdown', value: help.fn.doc }, parameters: help.parameters.map((p) => ({ label: p.label, documentation: p.doc })) }],
        activeSignature: 0,
        activeParameter: help.active,
      };
    });
    connection.onDocumentFormatting(({ textDocument }): TextEdit[] => {
      const document = sgql(documents.get(textDocument.uri));
      if (!document) return [];
      const text = document.getText();
      const formatted = format(text);
      if (formatted === undefined || formatted === text) return [];
      return [{ range: { start: { line: 0, character: 0 }, end: document.positionAt(text.length) }, newText: formatted }];
    });
    connection.onDefinition(({ textDocument, position }): Location | null => {
      const document = sgql(documents.get(textDocument.uri));
      if (!document) return null;
      const span = definition(analyzeAt(document.getText()), document.offsetAt(position));
      return span ? { uri: document.uri, range: { start: document.positionAt(span.start), end: document.positionAt(span.end) } } : null;
    });
    // A problem with a suggestion ("did you mean duration_ms?") is one click from fixed.
    connection.onCodeAction(({ textDocument, context }): CodeAction[] => {
      if (!sgql(documents.get(textDocument.uri))) return [];
      return context.diagnostics.flatMap((diagnostic) => {
        const suggestion = (diagnostic.data as { suggestion?: unknown } | undefined)?.suggestion;
        if (diagnostic.source !== 'sgql' || typeof suggestion !== 'string') return [];
        return [{ title: `Change to ${suggestion}`, kind: 'quickfix', diagnostics: [diagnostic], isPreferred: true, edit: { changes: { [textDocument.uri]: [{ range: diagnostic.range, newText: suggestion }] } } }];
      });
    });
    connection.onRequest(QueryRunRequest.type, async (request) => {
      const parsed = check(QueryRequestSchema, request);
      if (!parsed.ok) return new ResponseError(ErrorCodes.InvalidParams, `bad query request: ${parsed.error}`);
      try {
        return await host.queries().run(parsed.value);
      } catch (error) {
        return new ResponseError(ErrorCodes.InternalError, `the query failed: ${errorMessage(error)}`);
      }
    });
  }

  /** Diagnostics shortly after typing stops, so a burst of keystrokes is checked once. */
  private scheduleDiagnostics(document: TextDocument): void {
    if (!isQueryDocument(document)) return;
    clearTimeout(this.pending.get(document.uri));
    this.pending.set(
      document.uri,
      setTimeout(() => {
        this.pending.delete(document.uri);
        void this.host.connection.sendDiagnostics({ uri: document.uri, version: document.version, diagnostics: this.diagnostics(document) });
      }, 120),
    );
  }

  diagnostics(document: TextDocument): Diagnostic[] {
    return analyzeAt(document.getText()).problems.map((p) => ({
      range: { start: document.positionAt(p.start), end: document.positionAt(Math.max(p.end, p.start + 1)) },
      message: p.message,
      severity: p.severity === 'error' ? 1 : 2,
      source: 'sgql',
      ...(p.suggestion !== undefined ? { data: { suggestion: p.suggestion } } : {}),
    }));
  }

  async hover(document: TextDocument, offset: number): Promise<Hover | null> {
    const answer = hover(analyzeAt(document.getText()), offset);
    if (!answer) return null;
    const range = { start: document.positionAt(answer.span.start), end: document.positionAt(answer.span.end) };
    if ('markdown' in answer) return { contents: { kind: 'markdown', value: answer.markdown }, range };
    if (!this.host.live()) return { contents: { kind: 'markdown', value: `**${answer.metric}**: not connected to the fleet, so no live value` }, range };
    try {
      const value = await metricHover(this.host.analytics(), answer.metric);
      return { contents: { kind: 'markdown', value: value ?? `**${answer.metric}**: no data from the fleet in the last 15 minutes` }, range };
    } catch (error) {
      return { contents: { kind: 'markdown', value: `**${answer.metric}**: live value unavailable (${errorMessage(error)})` }, range };
    }
  }

  codeLenses(document: TextDocument): CodeLens[] {
    return querySpans(analyzeAt(document.getText())).flatMap((span) => {
      const range = { start: document.positionAt(span.start), end: document.positionAt(span.start) };
      const args: RunQueryArgs = { uri: document.uri, offset: span.start };
      return [
        { range, command: { title: '$(play) Run Query', command: RUN_QUERY_COMMAND, arguments: [args] } },
        { range, command: { title: '$(code) Show SQL', command: RUN_QUERY_COMMAND, arguments: [{ ...args, explain: true }] } },
      ];
    });
  }
}
