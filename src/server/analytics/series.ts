/**
 * Series queries, answered the same way from the live windows and from the store: both produce per-step
 * aggregates per group of series (`Bucketed`), and one function turns those into the asked statistic. The
 * store does the heavy part in SQL (sums, last values, histogram bins merged by key), so a one-hour range at
 * one-second resolution never moves raw rows into the server.
 */
import { DEFAULT_STAT, type DataSource, type MetricKind, type SeriesQuery, type SeriesResult, type SeriesStat } from '../../protocol/analytics';
import { emptyDistribution, mergeAll, quantile, valueOf, type Distribution } from '../telemetry/histogram';
import { LIVE_RETENTION_MS, RESOLUTION_MS, type LiveWindows } from '../live/windows';
import type { Store } from '../store';
import { join, raw, type Sql } from '../store/sql';

/** One step of one group: what every statistic is computed from. */
export interface StepAggregate {
  /** Counters: increments. Histograms: observations. */
  increase: number;
  /** Gauges: the sum over series of each one's last value in the step, and stats over all values. */
  lastSum: number;
  valueSum: number;
  valueCount: number;
  min: number;
  max: number;
  /** Histograms. */
  dist?: Distribution;
  /**
   * Histograms bucketed from the store for one quantile (`bucketStore` with `needs: 'stat'`): its value, found in
   * SQL. `dist` then holds the step's count, sum, min and max but no bins.
   */
  quantile?: { q: number; value: number };
}

export interface Bucketed {
  kind: MetricKind;
  groups: { labels: Record<string, string>; steps: Map<number, StepAggregate> }[];
}

const SERVICE_LABELS = new Set(['service', 'pod']);

export function groupKeyOf(labels: Record<string, string>, by: readonly string[]): { key: string; labels: Record<string, string> } {
  const out: Record<string, string> = {};
  for (const name of by) out[name] = labels[name] ?? '';
  return { key: JSON.stringify(by.map((name) => out[name])), labels: out };
}

function newStep(): StepAggregate {
  return { increase: 0, lastSum: 0, valueSum: 0, valueCount: 0, min: Infinity, max: -Infinity };
}

/** The live windows' answer, or undefined when the metric has no live series (unknown name). */
export function bucketLive(windows: LiveWindows, q: SeriesQuery): Bucketed | undefined {
  const by = q.by ?? [];
  const where = Object.entries(q.where ?? {});
  const groups = new Map<string, { labels: Record<string, string>; steps: Map<number, StepAggregate>; dists: Map<number, Distribution[]> }>();
  let kind: MetricKind | undefined;
  for (const series of windows.named(q.metric)) {
    if (!where.every(([k, v]) => series.labels[k] === v)) continue;
    kind ??= series.kind;
    if (series.kind !== kind) continue;
    const { key, labels } = groupKeyOf(series.labels, by);
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { labels, steps: new Map(), dists: new Map() }));
    // A gauge's last value per step, for this series: summed over series afterwards.
    const lastInStep = new Map<number, { ts: number; value: number }>();
    series.each(q.from, q.to, (ts, slot) => {
      const step = q.from + Math.floor((ts - q.from) / q.stepMs) * q.stepMs;
      let agg = group.steps.get(step);
      if (!agg) group.steps.set(step, (agg = newStep()));
      const value = series.values[slot]!;
      if (series.kind === 'gauge') {
        agg.valueSum += value;
        agg.valueCount++;
        if (value < agg.min) agg.min = value;
        if (value > agg.max) agg.max = value;
        const last = lastInStep.get(step);
        if (!last || ts >= last.ts) lastInStep.set(step, { ts, value });
      } else {
        agg.increase += value;
        const dist = series.dists[slot];
        if (dist) {
          let list = group.dists.get(step);
          if (!list) group.dists.set(step, (list = []));
          list.push(dist);
        }
      }
    });
    for (const [step, { value }] of lastInStep) group.steps.get(step)!.lastSum += value;
  }
  if (!kind) return undefined;
  for (const group of groups.values()) {
    for (const [step, list] of group.dists) {
      const agg = group.steps.get(step)!;
      agg.dist = mergeAll(list);
      agg.min = agg.dist.min;
      agg.max = agg.dist.max;
    }
  }
  return { kind, groups: [...groups.values()].map(({ labels, steps }) => ({ labels, steps })) };
}

/** SQL for a label's value in a row of the metrics table. */
function labelExpr(store: Store, name: string): Sql {
  if (SERVICE_LABELS.has(name)) return raw(name);
  return store.dialect === 'duckdb'
    ? { text: `coalesce(label_values[list_position(label_keys, ?)], '')`, params: [name] }
    : { text: `label_values[indexOf(label_keys, ?)]`, params: [name] };
}

function stepExpr(store: Store, q: SeriesQuery): Sql {
  // Steps start at `from`, like the live windows' buckets.
  return store.dialect === 'duckdb'
    ? { text: `(? + ((ts - ?) // ?) * ?)`, params: [q.from, q.from, q.stepMs, q.stepMs] }
    : { text: `(? + intDiv(ts - ?, ?) * ?)`, params: [q.from, q.from, q.stepMs, q.stepMs] };
}

function filters(store: Store, q: SeriesQuery, kind?: MetricKind): Sql {
  const parts: Sql[] = [{ text: 'name = ? AND ts >= ? AND ts < ?', params: [q.metric, q.from, q.to] }];
  if (kind) parts.push({ text: 'kind = ?', params: [kind] });
  for (const [name, value] of Object.entries(q.where ?? {})) {
    const expr = labelExpr(store, name);
    parts.push({ text: `${expr.text} = ?`, params: [...expr.params, value] });
  }
  return join(parts, ' AND ');
}

/** The quantile a statistic asks for (p99 → 0.99), or undefined for any other statistic. */
function quantileOf(stat: SeriesStat): number | undefined {
  return /^p\d+$/.test(stat) ? Number(stat.slice(1)) / 100 : undefined;
}

/**
 * The store's answer, or undefined when the range holds no point of the metric.
 *
 * `needs: 'all'` (the dashboard, which draws several statistics from one bucketing) brings back every step's
 * merged bins. `needs: 'stat'` (one series of `q.stat`) computes only what that statistic needs: for a quantile
 * of a histogram the store finds the bin in SQL, so an hour at one-second resolution moves 3600 numbers instead
 * of 3600 lists of a few hundred bins.
 */
export async function bucketStore(store: Store, q: SeriesQuery, needs: 'all' | 'stat' = 'all'): Promise<Bucketed | undefined> {
  const by = q.by ?? [];
  const kindRows = await store.query(join([raw('SELECT kind, count(*) AS n FROM metrics WHERE'), filters(store, q), raw('GROUP BY kind ORDER BY n DESC')], ' '));
  const kind = kindRows[0]?.kind as MetricKind | undefined;
  if (!kind) return undefined;
  const groupCols = by.map((name, i) => {
    const expr = labelExpr(store, name);
    return { text: `${expr.text} AS g${i}`, params: expr.params };
  });
  const groupNames = by.map((_, i) => `g${i}`);
  const step = stepExpr(store, q);
  const where = filters(store, q, kind);
  const select = (extra: string) => join([...groupCols, { text: `${step.text} AS step`, params: step.params }, raw(extra)], ', ');
  const groupBy = [...groupNames, 'step'].join(', ');
  const groups = new Map<string, { labels: Record<string, string>; steps: Map<number, StepAggregate> }>();
  const stepOf = (row: Record<string, unknown>) => {
    let key = '';
    for (let i = 0; i < by.length; i++) key += `${String(row[`g${i}`] ?? '')}\u0000`;
    let group = groups.get(key);
    if (!group) {
      const labels: Record<string, string> = {};
      by.forEach((name, i) => (labels[name] = String(row[`g${i}`] ?? '')));
      groups.set(key, (group = { labels, steps: new Map() }));
    }
    const at = Number(row.step);
    let agg = group.steps.get(at);
    if (!agg) group.steps.set(at, (agg = newStep()));
    return agg;
  };

  if (kind === 'counter') {
    const rows = await store.query(join([raw('SELECT'), select('sum(value) AS inc'), raw('FROM metrics WHERE'), where, raw(`GROUP BY ${groupBy}`)], ' '));
    for (const row of rows) stepOf(row).increase += Number(row.inc);
  } else if (kind === 'gauge') {
    // The last value of each series in the step, then summed over the series of a group.
    const seriesCols = 'service, pod, label_keys, label_values';
    const inner = join(
      [raw('SELECT'), select(`${seriesCols}, ${store.dialect === 'duckdb' ? 'arg_max(value, ts)' : 'argMax(value, ts)'} AS last, sum(value) AS vs, count(*) AS vc, min(value) AS mn, max(value) AS mx`), raw('FROM metrics WHERE'), where, raw(`GROUP BY ${groupBy}, ${seriesCols}`)],
      ' ',
    );
    const outerGroup = [...groupNames, 'step'].join(', ');
    const rows = await store.query(join([raw(`SELECT ${outerGroup}, sum(last) AS last_sum, sum(vs) AS vs, sum(vc) AS vc, min(mn) AS mn, max(mx) AS mx FROM (`), inner, raw(`) AS s GROUP BY ${outerGroup}`)], ''));
    for (const row of rows) {
      const agg = stepOf(row);
      agg.lastSum += Number(row.last_sum);
      agg.valueSum += Number(row.vs);
      agg.valueCount += Number(row.vc);
      agg.min = Math.min(agg.min, Number(row.mn));
      agg.max = Math.max(agg.max, Number(row.mx));
    }
  } else {
    const stat = q.stat ?? DEFAULT_STAT[kind];
    const wanted = needs === 'stat' ? quantileOf(stat) : undefined;
    const stats = await store.query(
      join([raw('SELECT'), select('sum(count) AS c, sum(sum) AS s, min(min) AS mn, max(max) AS mx, sum(zero) AS z'), raw('FROM metrics WHERE'), where, raw(`GROUP BY ${groupBy}`)], ' '),
    );
    for (const row of stats) {
      const agg = stepOf(row);
      agg.increase += Number(row.c);
      agg.dist = { ...emptyDistribution(), count: Number(row.c), sum: Number(row.s), min: Number(row.mn), max: Number(row.mx), zero: Number(row.z) };
      agg.min = Number(row.mn);
      agg.max = Number(row.mx);
    }
    if (needs === 'stat') {
      if (wanted !== undefined) {
        const keys = await store.query(quantileKeySql(store, wanted, groupCols, groupNames, step, where));
        for (const row of keys) {
          const agg = stepOf(row);
          // No bin passes the rank (bins that add up to less than the count, which a sketch never sends): the maximum.
          const found = row.qk !== null && row.qk !== undefined && (row.found === undefined || Number(row.found) > 0);
          if (agg.dist) agg.quantile = { q: wanted, value: quantileFromKey(agg.dist, wanted, found ? Number(row.qk) : undefined) };
        }
      }
      return { kind, groups: [...groups.values()] };
    }
    // Bins merged by key per step in SQL and handed back as one list per step: a few thousand rows, not one
    // row per step and key.
    const grouped = [...groupNames, 'step'].join(', ');
    const bins = await store.query(
      store.dialect === 'duckdb'
        ? join(
            [
              raw(`SELECT ${grouped}, list(k ORDER BY k) AS ks, list(n ORDER BY k) AS ns FROM (SELECT ${grouped}, k, sum(n) AS n FROM (SELECT`),
              select('unnest(bin_keys) AS k, unnest(bin_counts) AS n'),
              raw('FROM metrics WHERE'),
              where,
              raw(`) AS u GROUP BY ${groupBy}, k) AS b GROUP BY ${grouped}`),
            ],
            ' ',
          )
        : join([raw(`SELECT ${grouped}, groupArray(k) AS ks, groupArray(n) AS ns FROM (SELECT`), select('k, sum(c) AS n'), raw('FROM metrics ARRAY JOIN bin_keys AS k, bin_counts AS c WHERE'), where, raw(`GROUP BY ${groupBy}, k) GROUP BY ${grouped}`)], ' '),
    );
    for (const row of bins) {
      const agg = stepOf(row);
      if (!agg.dist) continue;
      const keys = (row.ks as number[]).map(Number);
      const counts = (row.ns as number[]).map(Number);
      const order = keys.every((k, i) => i === 0 || keys[i - 1]! < k) ? undefined : keys.map((_, i) => i).sort((a, b) => keys[a]! - keys[b]!);
      agg.dist = {
        ...agg.dist,
        keys: Int32Array.from(order ? order.map((i) => keys[i]!) : keys),
        counts: Float64Array.from(order ? order.map((i) => counts[i]!) : counts),
      };
    }
  }
  return { kind, groups: [...groups.values()] };
}

/**
 * The quantile's value from the key of the bin it falls in, the way `quantile` reads merged bins: below the
 * zero bucket's rank it is the minimum (or 0), and the value is clamped to the step's minimum and maximum.
 */
function quantileFromKey(dist: Distribution, q: number, key: number | undefined): number {
  const rank = q * (dist.count - 1);
  if (rank < dist.zero) return Math.max(0, dist.min);
  const value = key === undefined ? dist.max : valueOf(key);
  return Math.min(dist.max, Math.max(dist.min, value));
}

/** Fine keys per coarse bucket in the two-pass search below. */
const COARSE = 16;

/**
 * Per step (and group), the key of the bin holding the quantile's rank: the first bin, in key order, at which the
 * running count (after the zero bucket) passes q·(count − 1), the rank `quantile` uses.
 *
 * DuckDB: a running sum over every (step, key) sorts ~600k rows for an hour of a busy histogram. Two passes sort
 * far less: running sums over coarse buckets of 16 keys find the bucket per step, then running sums over the
 * keys of that bucket alone find the key. ClickHouse 18.16 has no window functions; per step its bins go into
 * arrays, sorted by key, whose running sum (`arrayCumSum`) is searched with `arrayFirstIndex`.
 */
function quantileKeySql(store: Store, q: number, groupCols: Sql[], groupNames: string[], step: Sql, where: Sql): Sql {
  const keyed = [...groupNames, 'step'];
  const G = keyed.join(', ');
  const base = (extra: Sql) => join([...groupCols, { text: `${step.text} AS step`, params: step.params }, extra], ', ');
  if (store.dialect === 'clickhouse') {
    // Each step's bins, unmerged (a key may repeat): sorted by key, their running sum passes the rank at the same
    // key as the merged bins' would. `target` is selected too: 18.16 drops a column that only a lambda uses.
    return join(
      [
        raw(`SELECT ${G}, target, arrayFirstIndex(x -> x > target, arrayCumSum(arraySort((n, k) -> k, ns, ks))) AS found, arrayElement(arraySort(ks), found) AS qk FROM (SELECT `),
        base(raw('groupArrayArray(bin_keys) AS ks, groupArrayArray(bin_counts) AS ns')),
        raw(', '),
        { text: '? * (sum(count) - 1) - sum(zero) AS target', params: [q] },
        raw(' FROM metrics WHERE '),
        where,
        raw(` GROUP BY ${G})`),
      ],
      '',
    );
  }
  const on = (a: string, b: string) => keyed.map((c) => `${a}.${c} = ${b}.${c}`).join(' AND ');
  const cols = (t: string) => keyed.map((c) => `${t}.${c}`).join(', ');
  return join(
    [
      raw('WITH u AS (SELECT '),
      base(raw('unnest(bin_keys) AS k, unnest(bin_counts) AS n')),
      raw(' FROM metrics WHERE '),
      where,
      raw('), t AS ('),
      join([raw('SELECT'), base({ text: '? * (sum(count) - 1) - sum(zero) AS target', params: [q] }), raw('FROM metrics WHERE'), where, raw(`GROUP BY ${G}`)], ' '),
      raw(
        `), co AS (SELECT ${G}, floor(k / ${COARSE}) AS ck, sum(n) AS n FROM u GROUP BY ${G}, ck)` +
          `, cr AS (SELECT ${G}, ck, n, sum(n) OVER (PARTITION BY ${G} ORDER BY ck ROWS UNBOUNDED PRECEDING) AS run FROM co)` +
          `, pick AS (SELECT ${cols('cr')}, min(cr.ck) FILTER (WHERE cr.run > t.target) AS ck, arg_min(cr.run - cr.n, cr.ck) FILTER (WHERE cr.run > t.target) AS below, any_value(t.target) AS target FROM cr JOIN t ON ${on('cr', 't')} GROUP BY ${cols('cr')})` +
          `, fine AS (SELECT ${cols('u')}, u.k, sum(u.n) AS n FROM u JOIN pick ON ${on('u', 'pick')} AND floor(u.k / ${COARSE}) = pick.ck GROUP BY ${cols('u')}, u.k)` +
          `, fr AS (SELECT ${G}, k, sum(n) OVER (PARTITION BY ${G} ORDER BY k ROWS UNBOUNDED PRECEDING) AS run FROM fine)` +
          ` SELECT ${cols('pick')}, min(fr.k) FILTER (WHERE pick.below + fr.run > pick.target) AS qk FROM pick LEFT JOIN fr ON ${on('pick', 'fr')} GROUP BY ${cols('pick')}`,
      ),
    ],
    '',
  );
}

/** The statistic of one step. */
export function statOf(kind: MetricKind, stat: SeriesStat, agg: StepAggregate, stepMs: number): number | null {
  switch (stat) {
    case 'rate':
      return kind === 'gauge' ? null : agg.increase / (stepMs / 1000);
    case 'increase':
      return kind === 'gauge' ? null : agg.increase;
    case 'value':
      return kind === 'gauge' ? agg.lastSum : agg.increase;
    case 'avg':
      if (kind === 'gauge') return agg.valueCount ? agg.valueSum / agg.valueCount : null;
      if (kind === 'histogram') return agg.dist?.count ? agg.dist.sum / agg.dist.count : null;
      return null;
    case 'min':
      return kind === 'counter' || !Number.isFinite(agg.min) ? null : agg.min;
    case 'max':
      return kind === 'counter' || !Number.isFinite(agg.max) ? null : agg.max;
    case 'p50':
    case 'p90':
    case 'p95':
    case 'p99': {
      if (kind !== 'histogram' || !agg.dist?.count) return null;
      const q = Number(stat.slice(1)) / 100;
      if (agg.quantile) return agg.quantile.q === q ? agg.quantile.value : null;
      return quantile(agg.dist, q);
    }
  }
}

export function toResult(q: SeriesQuery, bucketed: Bucketed | undefined, source: DataSource): SeriesResult {
  const kind = bucketed?.kind ?? 'gauge';
  const stat = q.stat ?? DEFAULT_STAT[kind];
  const steps: number[] = [];
  for (let t = q.from; t < q.to; t += q.stepMs) steps.push(t);
  const series = (bucketed?.groups ?? []).map(({ labels, steps: aggs }) => {
    const points = steps.map((t): [number, number | null] => {
      const agg = aggs.get(t);
      return [t, agg ? statOf(kind, stat, agg, q.stepMs) : null];
    });
    const out: SeriesResult['series'][number] = { labels, points };
    if (kind === 'counter') out.total = [...aggs.values()].reduce((sum, a) => sum + a.increase, 0);
    return out;
  });
  series.sort((a, b) => JSON.stringify(a.labels).localeCompare(JSON.stringify(b.labels)));
  return { metric: q.metric, kind, stat, from: q.from, to: q.to, step: q.stepMs, source, series };
}

/** Live windows when the range lies within what they keep, the store otherwise. */
export function sourceFor(q: { from: number }, now = Date.now()): DataSource {
  return q.from >= now - LIVE_RETENTION_MS + RESOLUTION_MS ? 'live' : 'store';
}
