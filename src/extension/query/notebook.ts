/**
 * SGQL notebooks (`*.sgnb`): Markdown and SGQL cells whose outputs are the query's table and chart, saved in the
 * file with the cells, and run by a notebook controller through the language server. The file is JSON; a file
 * that is not one is refused with the field that is wrong, never half-read.
 */
import * as vscode from 'vscode';
import * as z from 'zod/mini';
import { toTextTable } from '../../common/queryTable';
import { describeProblems, type QueryResult } from '../../protocol/query';
import { check } from '../../protocol/schema';
import { QUERY_RESULT_MIME } from '../../protocol/webview';
import type { ServerClient } from '../client';

export const NOTEBOOK_TYPE = 'streamgate-sgnb';
const LANGUAGE = 'sgql';

const ResultSchema = z.object({
  columns: z.array(z.object({ name: z.string(), type: z.enum(['int', 'float', 'string', 'bool', 'time', 'duration']) })),
  rows: z.array(z.array(z.union([z.string(), z.number(), z.boolean(), z.null()]))),
  truncated: z.boolean(),
  chart: z.optional(z.object({ kind: z.enum(['line', 'bar', 'area', 'table']), x: z.string(), y: z.array(z.string()), series: z.array(z.string()) })),
  engine: z.enum(['duckdb', 'clickhouse']),
  elapsedMs: z.number(),
  range: z.object({ start: z.number(), end: z.number() }),
});

const NotebookFileSchema = z.object({
  version: z.literal(1),
  cells: z.array(
    z.object({
      kind: z.enum(['markdown', 'sgql']),
      value: z.string(),
      outputs: z.optional(z.array(z.union([z.object({ result: ResultSchema, ranAt: z.optional(z.number()) }), z.object({ error: z.string() })]))),
    }),
  ),
});
type NotebookFile = z.infer<typeof NotebookFileSchema>;

export class QueryNotebookSerializer implements vscode.NotebookSerializer {
  deserializeNotebook(content: Uint8Array): vscode.NotebookData {
    const text = new TextDecoder().decode(content);
    if (!text.trim()) return new vscode.NotebookData([new vscode.NotebookCellData(vscode.NotebookCellKind.Code, 'spans\n| summarize count() by bin(ts, 1m)\n| chart line', LANGUAGE)]);
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (error) {
      throw new Error(`this .sgnb file is not JSON: ${(error as Error).message}`);
    }
    const parsed = check(NotebookFileSchema, raw);
    if (!parsed.ok) throw new Error(`this .sgnb file is not an SGQL notebook: ${parsed.error}`);
    return new vscode.NotebookData(
      parsed.value.cells.map((cell) => {
        const data = new vscode.NotebookCellData(cell.kind === 'markdown' ? vscode.NotebookCellKind.Markup : vscode.NotebookCellKind.Code, cell.value, cell.kind === 'markdown' ? 'markdown' : LANGUAGE);
        data.outputs = (cell.outputs ?? []).map((o) => ('result' in o ? resultOutput(o.result) : errorOutput(o.error)));
        return data;
      }),
    );
  }

  serializeNotebook(data: vscode.NotebookData): Uint8Array {
    const file: NotebookFile = {
      version: 1,
      cells: data.cells.map((cell) => {
        const outputs: NonNullable<NotebookFile['cells'][number]['outputs']> = [];
        for (const output of cell.outputs ?? []) {
          const result = output.items.find((i) => i.mime === QUERY_RESULT_MIME);
          const error = output.items.find((i) => i.mime === 'application/vnd.code.notebook.error');
          if (result) outputs.push({ result: JSON.parse(new TextDecoder().decode(result.data)) as QueryResult });
          else if (error) outputs.push({ error: (JSON.parse(new TextDecoder().decode(error.data)) as { message: string }).message });
        }
        return { kind: cell.kind === vscode.NotebookCellKind.Markup ? 'markdown' : 'sgql', value: cell.value, ...(outputs.length ? { outputs } : {}) };
      }),
    };
    return new TextEncoder().encode(`${JSON.stringify(file, null, 1)}\n`);
  }
}

function resultOutput(result: QueryResult): vscode.NotebookCellOutput {
  // The table as text too, for editors and diffs that cannot run the renderer.
  return new vscode.NotebookCellOutput([vscode.NotebookCellOutputItem.json(result, QUERY_RESULT_MIME), vscode.NotebookCellOutputItem.text(toTextTable(result))]);
}

function errorOutput(message: string): vscode.NotebookCellOutput {
  return new vscode.NotebookCellOutput([vscode.NotebookCellOutputItem.error({ name: 'SGQL', message })]);
}

/** Runs SGQL cells through the language server, one after another, each on its own. */
export class QueryNotebookController implements vscode.Disposable {
  private readonly controller: vscode.NotebookController;
  private order = 0;

  constructor(private readonly client: ServerClient) {
    this.controller = vscode.notebooks.createNotebookController('streamgate-sgnb-controller', NOTEBOOK_TYPE, 'StreamGate SGQL');
    this.controller.supportedLanguages = [LANGUAGE];
    this.controller.supportsExecutionOrder = true;
    this.controller.description = 'Runs SGQL on the StreamGate server\'s store';
    this.controller.executeHandler = async (cells) => {
      for (const cell of cells) await this.execute(cell);
    };
  }

  private async execute(cell: vscode.NotebookCell): Promise<void> {
    const execution = this.controller.createNotebookCellExecution(cell);
    execution.executionOrder = ++this.order;
    execution.start(Date.now());
    const text = cell.document.getText();
    try {
      const answer = await this.client.query({ text, now: Date.now() });
      if (!answer.ok) {
        await execution.replaceOutput(errorOutput(describeProblems(text, answer.problems, answer.error)));
        execution.end(false, Date.now());
        return;
      }
      if (!('result' in answer)) throw new Error('the server explained instead of running');
      await execution.replaceOutput(resultOutput(answer.result));
      execution.end(true, Date.now());
    } catch (error) {
      await execution.replaceOutput(errorOutput(error instanceof Error ? error.message : String(error)));
      execution.end(false, Date.now());
    }
  }

  dispose(): void {
    this.controller.dispose();
  }
}
