/**
 * The difference of two selections (two ranges, versions or pods), per node. Absolute deltas are
 * `current − base` as `go tool pprof -diff_base=BASE CURRENT` reports them; share deltas compare each node's
 * share of its own side's total, so a selection twice as long does not make every function "grow".
 */
import type { ProfileData } from './profileData';
import { compareStrings, nodeTotals, printableName, type Granularity, type NodeInfo, type TopOptions } from './top';

export interface DiffRow {
  name: string;
  file: string;
  line?: number;
  baseFlat: number;
  currentFlat: number;
  /** currentFlat − baseFlat. */
  deltaFlat: number;
  baseCum: number;
  currentCum: number;
  deltaCum: number;
  /** Share of each side's own total, in %. */
  baseFlatPercent: number;
  currentFlatPercent: number;
  /** currentFlatPercent − baseFlatPercent, in percentage points. */
  deltaFlatPercent: number;
  baseCumPercent: number;
  currentCumPercent: number;
  deltaCumPercent: number;
}

/** The `sg profile diff --json` shape (docs/profiling.md). */
export interface DiffTable {
  unit: string;
  sampleType: string;
  base: { total: number; source: string };
  current: { total: number; source: string };
  rows: DiffRow[];
}

export interface DiffOptions extends TopOptions {
  /** `absolute` (default): rows by |deltaFlat| as pprof -diff_base; `share`: by |deltaFlatPercent|. */
  order?: 'absolute' | 'share';
}

export function diffProfiles(base: ProfileData, current: ProfileData, options: DiffOptions = {}): DiffTable {
  const by: Granularity = options.by ?? 'function';
  // The sample type is chosen on the current side; the base must have the same one.
  const c = nodeTotals(current, options);
  const type = current.sampleTypes[c.sampleIndex]!;
  const baseIndex = base.sampleTypes.findIndex((t) => t.type === type.type && t.unit === type.unit);
  if (baseIndex < 0) throw new Error(`${base.source} has no sample type ${type.type}/${type.unit} to compare with ${current.source}`);
  const b = nodeTotals(base, { by, sampleIndex: String(baseIndex) });

  const key = (n: NodeInfo) => printableName(n, by);
  const rows = new Map<string, DiffRow & { printable: string }>();
  const row = (n: NodeInfo) => {
    const k = key(n);
    let r = rows.get(k);
    if (!r) {
      r = {
        name: n.name,
        file: n.file,
        ...(by === 'line' ? { line: n.line } : {}),
        baseFlat: 0,
        currentFlat: 0,
        deltaFlat: 0,
        baseCum: 0,
        currentCum: 0,
        deltaCum: 0,
        baseFlatPercent: 0,
        currentFlatPercent: 0,
        deltaFlatPercent: 0,
        baseCumPercent: 0,
        currentCumPercent: 0,
        deltaCumPercent: 0,
        printable: k,
      };
      rows.set(k, r);
    }
    return r;
  };
  b.grouping.nodes.forEach((n, i) => {
    if (b.flat[i] === 0 && b.cum[i] === 0) return;
    const r = row(n);
    r.baseFlat = b.flat[i]!;
    r.baseCum = b.cum[i]!;
  });
  c.grouping.nodes.forEach((n, i) => {
    if (c.flat[i] === 0 && c.cum[i] === 0) return;
    const r = row(n);
    r.currentFlat = c.flat[i]!;
    r.currentCum = c.cum[i]!;
  });
  const share = (v: number, total: number) => (total ? (v / total) * 100 : 0);
  const out: (DiffRow & { printable: string })[] = [];
  for (const r of rows.values()) {
    r.deltaFlat = r.currentFlat - r.baseFlat;
    r.deltaCum = r.currentCum - r.baseCum;
    r.baseFlatPercent = share(r.baseFlat, b.total);
    r.currentFlatPercent = share(r.currentFlat, c.total);
    r.deltaFlatPercent = r.currentFlatPercent - r.baseFlatPercent;
    r.baseCumPercent = share(r.baseCum, b.total);
    r.currentCumPercent = share(r.currentCum, c.total);
    r.deltaCumPercent = r.currentCumPercent - r.baseCumPercent;
    out.push(r);
  }
  const abs = Math.abs;
  if (options.order === 'share') {
    out.sort((x, y) => abs(y.deltaFlatPercent) - abs(x.deltaFlatPercent) || abs(y.deltaCumPercent) - abs(x.deltaCumPercent) || compareStrings(x.printable, y.printable));
  } else {
    // pprof's order on the difference: |flat|, name, |cum|; rows whose flat and cum both cancel are kept (pprof drops them).
    out.sort((x, y) => abs(y.deltaFlat) - abs(x.deltaFlat) || compareStrings(x.printable, y.printable) || abs(y.deltaCum) - abs(x.deltaCum));
  }
  return {
    unit: type.unit,
    sampleType: type.type,
    base: { total: b.total, source: base.source },
    current: { total: c.total, source: current.source },
    rows: out.map(({ printable: _p, ...rest }) => rest),
  };
}
