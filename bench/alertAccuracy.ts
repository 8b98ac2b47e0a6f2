/**
 * How good are the alerts? Goals from the seed: precision > 95 %, false-positive rate < 5 %; the median detection
 * delay is stated.
 *
 * A real NATS, the sandbox fleet (3 gateway pods, simulated users with a compressed daily cycle) and the StreamGate
 * Backend with its alert engine, as the product runs it. After the detectors' warm-up (no incidents), one
 * compressed day is scored: incidents of every kind the sandbox has are injected at random times (seeded) on random
 * pods through the pods' `incident` control request. Ground truth is the fleet's own truth telemetry, read back from
 * the store's incidents table; alerts are the ones the server published on NATS (`sg.alerts.>`).
 *
 * - An alert is true when it starts during an incident (or up to 60 s after it ended) on the alert's pod, or, for a
 *   service-wide alert, on any pod of that service. Precision = true alerts / all alerts.
 * - Recall = incidents with at least one true alert; detection delay = first true alert − incident start.
 * - False-positive rate over one-minute windows per subject (each pod, and the service): of the windows with no
 *   incident, the share in which a false alert started.
 *
 *   npm run bench -- alertAccuracy
 *   SG_BENCH_DAY_MINUTES=12 SG_BENCH_INCIDENTS=8 SG_BENCH_SEED=3 npm run bench -- alertAccuracy
 */
import { join } from 'node:path';
import { connect } from 'nats';
import { createLogger } from '../src/common/logger';
import { requestPod } from '../src/common/podClient';
import { startNatsServer } from '../src/launch/nats';
import { startSandbox } from '../src/launch/sandbox';
import { INCIDENT_KINDS, type IncidentKind } from '../src/protocol/nats';
import type { AlertEvent } from '../src/protocol/predict';
import { ALERT_STEP_MS, ALERT_WARMUP } from '../src/server/predict/alerts';
import { Backend } from '../src/server/backend';
import { tempDirectory } from './support';

const root = join(__dirname, '..', '..');
const env = (name: string, fallback: number) => (process.env[name] ? Number(process.env[name]) : fallback);
const GRACE_MS = 60_000;
const WINDOW_MS = 60_000;
const PODS = ['gw-1', 'gw-2', 'gw-3'];

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Planned {
  at: number;
  kind: IncidentKind;
  pod: string;
  durationMs: number;
}

/** Incidents at random times of the scored day, at least 3 minutes apart, each kind at least once when there is room. */
function plan(seed: number, count: number, from: number, dayMs: number): Planned[] {
  const random = prng(seed);
  const gap = 180_000;
  const slots = Math.floor((dayMs - 120_000) / gap);
  const picked = new Set<number>();
  while (picked.size < Math.min(count, slots)) picked.add(Math.floor(random() * slots));
  return [...picked]
    .sort((a, b) => a - b)
    .map((slot, i) => ({
      at: from + slot * gap + Math.floor(random() * 60_000),
      kind: INCIDENT_KINDS[i % INCIDENT_KINDS.length]!,
      pod: PODS[Math.floor(random() * PODS.length)]!,
      durationMs: 60_000 + Math.floor(random() * 30_000),
    }));
}

async function main(): Promise<void> {
  const dayMs = env('SG_BENCH_DAY_MINUTES', 12) * 60_000;
  const seed = env('SG_BENCH_SEED', 3);
  const count = env('SG_BENCH_INCIDENTS', 8);
  const dir = tempDirectory('sg-bench-alerts-');
  const nats = await startNatsServer();
  const nc = await connect({ servers: nats.url });
  const alerts: AlertEvent[] = [];
  nc.subscribe('sg.alerts.>', { callback: (error, msg) => !error && alerts.push(JSON.parse(new TextDecoder().decode(msg.data)) as AlertEvent) });
  const backend = new Backend(createLogger(() => {}, 'error'));
  await backend.configure({ nats: { url: nats.url }, store: { kind: 'duckdb', path: join(dir, 'bench.duckdb') }, ingest: true });
  const fleet = await startSandbox({
    natsUrl: nats.url,
    stateDir: join(dir, 'fleet'),
    distDir: join(root, 'dist'),
    pods: 3,
    loadgenArgs: ['--day-minutes', String(dayMs / 60_000), '--seed', String(seed), '--quiet'],
  });
  const warmMs = (ALERT_WARMUP + 6) * ALERT_STEP_MS;
  const scoredFrom = Date.now() + warmMs;
  const scoredTo = scoredFrom + dayMs;
  const incidents = plan(seed, count, scoredFrom, dayMs);
  console.log(`alert accuracy: warm-up ${Math.round(warmMs / 60_000)} min, then one simulated day of ${dayMs / 60_000} min with ${incidents.length} incidents (seed ${seed}), until ${new Date(scoredTo + GRACE_MS).toISOString()}`);
  for (const incident of incidents) {
    await new Promise((r) => setTimeout(r, Math.max(0, incident.at - Date.now())));
    await requestPod(nc, incident.pod, 'incident', { type: incident.kind, durationMs: incident.durationMs }, 10_000).catch((error: unknown) => console.log(`  injecting ${incident.kind} on ${incident.pod}: ${String(error)}`));
    console.log(`  ${new Date().toISOString()} injected ${incident.kind} on ${incident.pod} for ${incident.durationMs / 1000} s`);
  }
  await new Promise((r) => setTimeout(r, Math.max(0, scoredTo + GRACE_MS - Date.now())));

  const store = backend.requireStore();
  const rows = await store.query({ text: `SELECT id, pod, type, min(start_ms) AS s, max(end_ms) AS e FROM incidents WHERE start_ms >= ? GROUP BY id, pod, type ORDER BY s`, params: [scoredFrom - 60_000] });
  const truth = rows.map((r) => ({ id: String(r.id), pod: String(r.pod), type: String(r.type), start: Number(r.s), end: Math.min(Number(r.e), scoredTo + GRACE_MS) }));
  await fleet.stop();
  await backend.dispose();
  await nc.close();
  await nats.stop();

  const firing = alerts.filter((a) => a.state === 'firing' && a.startsAt >= scoredFrom && a.startsAt < scoredTo + GRACE_MS);
  const matches = (a: AlertEvent, t: (typeof truth)[number]) => a.startsAt >= t.start && a.startsAt <= t.end + GRACE_MS && (a.pod === undefined ? a.service === 'gateway' : a.pod === t.pod);
  const isTrue = (a: AlertEvent) => truth.some((t) => matches(a, t));
  const trueAlerts = firing.filter(isTrue);
  const precision = firing.length ? trueAlerts.length / firing.length : 1;
  const delays: number[] = [];
  const detected = new Map<string, boolean>();
  for (const t of truth) {
    const first = firing.filter((a) => matches(a, t)).sort((a, b) => a.startsAt - b.startsAt)[0];
    detected.set(t.id, first !== undefined);
    if (first) delays.push(first.startsAt - t.start);
  }
  // False-positive rate over one-minute windows per subject.
  const subjects = [...PODS, 'service'];
  let negatives = 0;
  let falseWindows = 0;
  for (let w = scoredFrom; w < scoredTo; w += WINDOW_MS) {
    for (const subject of subjects) {
      const busy = truth.some((t) => (subject === 'service' || t.pod === subject) && t.start < w + WINDOW_MS && t.end + GRACE_MS > w);
      if (busy) continue;
      negatives++;
      const falseAlert = firing.some((a) => !isTrue(a) && a.startsAt >= w && a.startsAt < w + WINDOW_MS && (subject === 'service' ? a.pod === undefined : a.pod === subject));
      if (falseAlert) falseWindows++;
    }
  }
  delays.sort((a, b) => a - b);
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  console.log(`incidents (ground truth from the incidents table): ${truth.length}; alerts fired in the scored day: ${firing.length} (${trueAlerts.length} true)`);
  for (const t of truth) {
    const mine = firing.filter((a) => matches(a, t)).sort((a, b) => a.startsAt - b.startsAt);
    console.log(`  ${t.type.padEnd(16)} ${t.pod}  ${mine.length ? `detected after ${((mine[0]!.startsAt - t.start) / 1000).toFixed(0)} s by ${[...new Set(mine.map((a) => a.rule))].join(', ')}` : 'missed'}`);
  }
  for (const a of firing.filter((x) => !isTrue(x))) console.log(`  false alert: [${a.severity}] ${a.rule} at ${new Date(a.startsAt).toISOString()}: ${a.summary}`);
  const bySeverity = ['critical', 'warning', 'info'].map((s) => {
    const all = firing.filter((a) => a.severity === s);
    return `${s} ${all.filter(isTrue).length}/${all.length}`;
  });
  console.log(`precision ${pct(precision)} (true/all by severity: ${bySeverity.join(', ')}); recall ${pct([...detected.values()].filter(Boolean).length / Math.max(1, truth.length))}`);
  console.log(`false-positive rate ${pct(negatives ? falseWindows / negatives : 0)} (${falseWindows} of ${negatives} incident-free one-minute windows of ${subjects.length} subjects had a false alert)`);
  console.log(`detection delay: median ${delays.length ? (delays[Math.floor((delays.length - 1) / 2)]! / 1000).toFixed(0) : '—'} s, max ${delays.length ? (delays[delays.length - 1]! / 1000).toFixed(0) : '—'} s (alerts are evaluated every ${ALERT_STEP_MS / 1000} s)`);
  console.log(`goals: precision > 95 % ${precision > 0.95 ? 'met' : 'NOT met'}; false-positive rate < 5 % ${negatives && falseWindows / negatives < 0.05 ? 'met' : 'NOT met'}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
