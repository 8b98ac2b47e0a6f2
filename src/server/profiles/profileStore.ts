/**
 * Profiles in the store (the `profiles` table of store/schema.ts): one row per collected profile with its labels
 * and time range, the gzipped pprof as base64 (`data`), and for Node CPU profiles the per-tick timeline
 * (`timeline`). Reads select rows by type, range and labels, and decode them through a bounded cache: the
 * collector puts what it wrote there, so analysis of recent ranges rarely decodes at all.
 */
import { gzipSync } from 'node:zlib';
import type { StoredProfileType } from '../../protocol/profiles';
import type { Store } from '../store';
import type { Row } from '../store/rows';
import { join, raw, sql, type Sql } from '../store/sql';
import { decodeProfile, ProfileDecodeError } from './decode';
import { toPprof } from './export';
import { defaultSampleIndex, type ProfileData } from './profileData';
import { foldSamples, hasTimeline } from './samples';

/** The pod (or Go target) a profile came from. */
export interface ProfileTarget {
  service: string;
  pod: string;
  version: string;
  runtime: 'node' | 'go';
  labels: Record<string, string>;
}

export interface CollectedProfile {
  type: StoredProfileType;
  target: ProfileTarget;
  /** When the request was sent and when the answer was complete (epoch ms); the profile's own times win. */
  requestedAt: number;
  receivedAt: number;
  source: 'nats' | 'http';
  /** The pprof as the pod sent it (gzipped or not). */
  bytes: Uint8Array;
  collector: string;
}

export interface StoredProfileMeta {
  id: string;
  type: StoredProfileType;
  /** The time the profile covers, epoch ms (equal for a snapshot such as heap). */
  from: number;
  to: number;
  service: string;
  pod: string;
  version: string;
  region: string;
  runtime: string;
  labels: Record<string, string>;
  samples: number;
  total: number;
  hasTimeline: boolean;
}

export interface LoadedProfile {
  meta: StoredProfileMeta;
  profile: ProfileData;
}

/** Columns a `where` key matches; any other key is a pod label. */
const COLUMN_KEYS = new Set(['service', 'pod', 'version', 'region', 'runtime']);
const META_COLUMNS = 'msg_id, ts, end_ts, type, service, pod, version, region, runtime, label_keys, label_values, samples, total, timeline != \'\' AS has_timeline';

export class ProfileStore {
  private readonly cache = new DecodedCache(256 * 1024 * 1024);

  constructor(private readonly store: () => Store | undefined) {}

  private require(): Store {
    const store = this.store();
    if (!store) throw new Error('the store is not ready: profiles cannot be read or written');
    return store;
  }

  /**
   * Validates, writes and caches one collected profile. A timeline is kept as it came and folded into the
   * aggregate profile the analyses read. Throws ProfileDecodeError for a profile that cannot be used.
   */
  async add(collected: CollectedProfile): Promise<StoredProfileMeta> {
    const store = this.require();
    const t = collected.target;
    const id = `${t.pod}/${collected.type}/${collected.requestedAt}`;
    const decoded = decodeProfile(collected.bytes, `${t.pod} ${collected.type} at ${new Date(collected.requestedAt).toISOString()}`);
    const timeline = hasTimeline(decoded);
    const profile = timeline ? foldSamples(decoded) : decoded;
    const data = timeline ? gzipSync(toPprof(profile).encode(), { level: 1 }) : Buffer.from(collected.bytes);
    const [from, to] = coveredRange(decoded, collected);
    const region = t.labels.region ?? '';
    const labelKeys = Object.keys(t.labels).filter((k) => k !== 'region').sort();
    const meta: StoredProfileMeta = {
      id,
      type: collected.type,
      from,
      to,
      service: t.service,
      pod: t.pod,
      version: t.version,
      region,
      runtime: t.runtime,
      labels: t.labels,
      samples: profile.sampleCount,
      total: totalOf(profile),
      hasTimeline: timeline,
    };
    const row: Row = {
      ts: from,
      end_ts: to,
      type: collected.type,
      service: t.service,
      pod: t.pod,
      version: t.version,
      region,
      runtime: t.runtime,
      label_keys: labelKeys,
      label_values: labelKeys.map((k) => t.labels[k]!),
      source: collected.source,
      sample_types: profile.sampleTypes.map((s) => `${s.type}/${s.unit}`).join(','),
      samples: profile.sampleCount,
      total: meta.total,
      bytes: data.length,
      data: data.toString('base64'),
      timeline: timeline ? Buffer.from(collected.bytes).toString('base64') : '',
      collector: collected.collector,
      msg_id: id,
    };
    await store.write({ profiles: [row] });
    this.cache.put(id, profile);
    return meta;
  }

  /** Rows of `type` overlapping [from, to) whose labels equal `where`, oldest first (no profile data read). */
  async list(type: StoredProfileType, from: number, to: number, where: Record<string, string> = {}): Promise<StoredProfileMeta[]> {
    const store = this.require();
    const filters: Sql[] = [sql`type = ${type}`, sql`ts < ${to}`, sql`end_ts >= ${from}`];
    for (const [key, value] of Object.entries(where)) if (COLUMN_KEYS.has(key)) filters.push(join([raw(key), sql` = ${value}`], ''));
    const rows = await store.query(join([raw(`SELECT ${META_COLUMNS} FROM profiles WHERE`), join(filters, ' AND '), raw('ORDER BY ts, pod')], ' '));
    const labelFilters = Object.entries(where).filter(([key]) => !COLUMN_KEYS.has(key));
    return rows.map(metaOf).filter((m) => labelFilters.every(([key, value]) => m.labels[key] === value));
  }

  /** The profiles behind `metas`, decoded (from the cache where it can); those that fail are named in problems. */
  async load(metas: readonly StoredProfileMeta[], column: 'data' | 'timeline' = 'data'): Promise<{ loaded: LoadedProfile[]; problems: string[] }> {
    const problems: string[] = [];
    const byId = new Map<string, ProfileData>();
    const missing = column === 'data' ? metas.filter((m) => !this.cache.has(m.id)) : [...metas];
    if (column === 'data') for (const m of metas) if (this.cache.has(m.id)) byId.set(m.id, this.cache.get(m.id)!);
    for (let i = 0; i < missing.length; i += 500) {
      const part = missing.slice(i, i + 500);
      const minTs = Math.min(...part.map((m) => m.from));
      const maxTs = Math.max(...part.map((m) => m.from));
      const rows = await this.require().query(
        join([raw(`SELECT msg_id, ${column} AS blob FROM profiles WHERE`), sql`ts >= ${minTs} AND ts <= ${maxTs} AND msg_id IN (`, join(part.map((m) => sql`${m.id}`), ', '), raw(')')], ' '),
      );
      for (const row of rows) {
        const id = String(row.msg_id);
        try {
          const profile = decodeProfile(Buffer.from(String(row.blob), 'base64'), `stored profile ${id}`);
          byId.set(id, profile);
          if (column === 'data') this.cache.put(id, profile);
        } catch (error) {
          if (!(error instanceof ProfileDecodeError)) throw error;
          problems.push(error.message);
        }
      }
    }
    const loaded: LoadedProfile[] = [];
    for (const meta of metas) {
      const profile = byId.get(meta.id);
      if (profile) loaded.push({ meta, profile });
      else if (!problems.some((p) => p.includes(meta.id))) problems.push(`stored profile ${meta.id}: its row is gone (retention ran?)`);
    }
    return { loaded, problems };
  }
}

function totalOf(profile: ProfileData): number {
  const j = defaultSampleIndex(profile);
  const nt = profile.sampleTypes.length;
  let total = 0;
  for (let i = 0; i < profile.sampleCount; i++) total += Math.abs(profile.values[i * nt + j]!);
  return total;
}

/**
 * The profile's own start and duration where it has them (a CPU profile), else the request's time (a
 * snapshot such as heap or goroutine, taken when the answer came).
 */
function coveredRange(profile: ProfileData, collected: CollectedProfile): [number, number] {
  if (profile.timeNanos > 0 && profile.durationNanos > 0) {
    const from = Math.round(profile.timeNanos / 1e6);
    // A clock far from ours (a remote pod) would misplace it: trust the profile only near the request.
    if (Math.abs(from - collected.requestedAt) < 60_000) return [from, from + Math.round(profile.durationNanos / 1e6)];
    return [collected.requestedAt, collected.requestedAt + Math.round(profile.durationNanos / 1e6)];
  }
  return [collected.receivedAt, collected.receivedAt];
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : [];
}

function metaOf(row: Record<string, unknown>): StoredProfileMeta {
  const keys = strings(row.label_keys);
  const values = strings(row.label_values);
  const labels: Record<string, string> = {};
  keys.forEach((k, i) => (labels[k] = values[i] ?? ''));
  const region = String(row.region ?? '');
  if (region) labels.region = region;
  return {
    id: String(row.msg_id),
    type: String(row.type) as StoredProfileType,
    from: Number(row.ts),
    to: Number(row.end_ts),
    service: String(row.service),
    pod: String(row.pod),
    version: String(row.version),
    region,
    runtime: String(row.runtime),
    labels,
    samples: Number(row.samples),
    total: Number(row.total),
    hasTimeline: Boolean(Number(row.has_timeline)) || row.has_timeline === true,
  };
}

/** Decoded profiles by id, least recently used dropped first once their estimated size passes the budget. */
class DecodedCache {
  private readonly entries = new Map<string, { profile: ProfileData; size: number }>();
  private size = 0;

  constructor(private readonly budgetBytes: number) {}

  has(id: string): boolean {
    return this.entries.has(id);
  }

  get(id: string): ProfileData | undefined {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    this.entries.delete(id);
    this.entries.set(id, entry);
    return entry.profile;
  }

  put(id: string, profile: ProfileData): void {
    const size = profile.stackFrames.byteLength + profile.stackStart.byteLength + profile.values.byteLength + profile.frames.length * 160 + 512;
    const old = this.entries.get(id);
    if (old) {
      this.size -= old.size;
      this.entries.delete(id);
    }
    this.entries.set(id, { profile, size });
    this.size += size;
    for (const [key, entry] of this.entries) {
      if (this.size <= this.budgetBytes) break;
      this.entries.delete(key);
      this.size -= entry.size;
    }
  }
}
