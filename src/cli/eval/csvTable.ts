/**
 * RFC 4180 CSV: fields separated by commas, quoted fields may hold commas, line breaks and doubled quotes,
 * records end with LF or CRLF. Errors name the file and the line they were found on.
 */

export class CsvError extends Error {}

export interface CsvTable {
  header: string[];
  rows: string[][];
  /** Line (1-based) each row starts on, for error messages. */
  rowLines: number[];
}

export function parseCsv(text: string, file: string): CsvTable {
  const records: string[][] = [];
  const recordLines: number[] = [];
  let record: string[] = [];
  let field = '';
  let line = 1;
  let recordLine = 1;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const length = text.length;
  let fieldStarted = false;
  const endRecord = () => {
    record.push(field);
    records.push(record);
    recordLines.push(recordLine);
    record = [];
    field = '';
    fieldStarted = false;
  };
  while (i < length) {
    const c = text[i]!;
    if (c === '"' && !fieldStarted) {
      const openedOn = line;
      i++;
      for (;;) {
        if (i >= length) throw new CsvError(`${file}:${openedOn}: a quoted field is never closed`);
        const q = text[i]!;
        if (q === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (q === '\n') line++;
        field += q;
        i++;
      }
      fieldStarted = true;
      const next = text[i];
      if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r') {
        throw new CsvError(`${file}:${line}: unexpected text after a closing quote (a quote inside a quoted field must be doubled)`);
      }
      continue;
    }
    if (c === ',') {
      record.push(field);
      field = '';
      fieldStarted = false;
      i++;
      continue;
    }
    if (c === '\r' || c === '\n') {
      endRecord();
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
      line++;
      recordLine = line;
      continue;
    }
    if (c === '"') throw new CsvError(`${file}:${line}: a quote in the middle of an unquoted field`);
    field += c;
    fieldStarted = true;
    i++;
  }
  if (fieldStarted || record.length > 0) endRecord();
  const [header, ...rows] = records;
  if (!header) throw new CsvError(`${file}: empty file, expected a header line`);
  const rowLines = recordLines.slice(1);
  rows.forEach((row, index) => {
    if (row.length !== header.length) {
      throw new CsvError(`${file}:${rowLines[index]}: ${row.length} fields where the header has ${header.length}`);
    }
  });
  return { header, rows, rowLines };
}

/** Index of each named column; a missing one is an error naming the file and the columns it has. */
export function columns<const N extends string>(table: CsvTable, file: string, names: readonly N[]): Record<N, number> {
  const out = {} as Record<N, number>;
  for (const name of names) {
    const index = table.header.indexOf(name);
    if (index < 0) throw new CsvError(`${file}: no "${name}" column (columns: ${table.header.join(', ')})`);
    out[name] = index;
  }
  return out;
}
