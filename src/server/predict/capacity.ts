/**
 * From a load forecast to pods and money: pods needed = ⌈requests/s ÷ capacity per pod⌉ (at least one), cost
 * per hour = pods × price per pod-hour; and the scaling advice a person can act on.
 */
import type { CostSummary, ForecastPoint, ScalingAdvice } from '../../protocol/predict';

export interface CapacitySettings {
  capacityPerPod: number;
  pricePerPodHour: number;
  currency: string;
  /** Where capacityPerPod came from: the request, the settings, measured on the fleet, or the default. */
  capacitySource?: CapacitySource;
}

export type CapacitySource = 'request' | 'setting' | 'measured' | 'default';

export const DEFAULT_CAPACITY: CapacitySettings = { capacityPerPod: 100, pricePerPodHour: 0.1, currency: 'USD' };

/** The share of one core a pod is planned to run at, when its capacity is measured: headroom for bursts and GC. */
export const TARGET_CPU_PERCENT = 70;
/** Below this share of a core a pod's CPU says too little about what a request costs. */
const MIN_CPU_PERCENT = 2;

/**
 * Requests a second a pod serves at TARGET_CPU_PERCENT of one core, from what its pods served and used over the
 * same minutes: the median over pods of requests/s ÷ cores busy × the target. Linear: a pod's fixed CPU (telemetry,
 * timers) counts as if it grew with load, so the figure errs low. Undefined when no pod was busy enough to tell.
 */
export function measureCapacity(pods: { rps: number; cpuPercent: number }[]): number | undefined {
  const perPod = pods.filter((p) => p.rps > 0 && p.cpuPercent >= MIN_CPU_PERCENT).map((p) => (p.rps / p.cpuPercent) * TARGET_CPU_PERCENT);
  if (!perPod.length) return undefined;
  perPod.sort((a, b) => a - b);
  const mid = perPod.length >> 1;
  return perPod.length % 2 ? perPod[mid]! : (perPod[mid - 1]! + perPod[mid]!) / 2;
}

/** How the advice names the capacity it used. */
function capacityText(capacityPerPod: number, source: CapacitySource | undefined): string {
  const text = `capacity ${compact(capacityPerPod)} per pod`;
  if (source === 'measured') return `${text} (measured: ${TARGET_CPU_PERCENT} % of a core at the fleet's CPU per request)`;
  if (source === 'default') return `${text} (the default: set streamgate.predict.capacityPerPod)`;
  return text;
}

export function podsFor(rps: number, capacityPerPod: number): number {
  return Math.max(1, Math.ceil(Math.max(0, rps) / capacityPerPod - 1e-9));
}

/** Cost per hour at each step, for the mean and each bound of the load forecast. */
export function costPoints(load: ForecastPoint[], c: CapacitySettings): ForecastPoint[] {
  const cost = (rps: number) => podsFor(rps, c.capacityPerPod) * c.pricePerPodHour;
  return load.map((p) => ({ t: p.t, mean: cost(p.mean), lo80: cost(p.lo80), hi80: cost(p.hi80), lo95: cost(p.lo95), hi95: cost(p.hi95) }));
}

/** Cost per hour of the load that was (for backtests and charts). */
export function costOf(rps: number, c: CapacitySettings): number {
  return podsFor(rps, c.capacityPerPod) * c.pricePerPodHour;
}

export function costSummary(points: ForecastPoint[], stepMs: number, c: CapacitySettings): CostSummary {
  const hours = stepMs / 3600_000;
  const sum = (key: keyof Omit<ForecastPoint, 't'>) => points.reduce((s, p) => s + p[key] * hours, 0);
  return { total: sum('mean'), total80: [sum('lo80'), sum('hi80')], total95: [sum('lo95'), sum('hi95')], pricePerPodHour: c.pricePerPodHour, capacityPerPod: c.capacityPerPod, currency: c.currency };
}

/** 12345 → "12.3k", 2.5 → "2.5". */
export function compact(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${+(value / 1e6).toFixed(1)}M`;
  if (abs >= 1e3) return `${+(value / 1e3).toFixed(1)}k`;
  if (abs >= 100) return value.toFixed(0);
  return `${+value.toFixed(abs >= 10 ? 1 : 2)}`;
}

export function clockTime(t: number): string {
  const d = new Date(t);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

/**
 * Scale to what the forecast's upper 95 % bound needs at its peak, before the first step that needs more pods
 * than run now; fewer pods when even the peak leaves some idle over the whole horizon.
 */
export function scalingAdvice(service: string, load: ForecastPoint[], currentPods: number, capacityPerPod: number, capacitySource?: CapacitySource): ScalingAdvice {
  let peak = 0;
  let peakAt = load[0]?.t ?? Date.now();
  for (const p of load) {
    if (p.hi95 > peak) {
      peak = p.hi95;
      peakAt = p.t;
    }
  }
  const neededPods = podsFor(peak, capacityPerPod);
  const tail = `forecast p95 ${compact(peak)} req/s, ${capacityText(capacityPerPod, capacitySource)}`;
  const base = { currentPods, neededPods, peak, peakAt, capacityPerPod, ...(capacitySource ? { capacitySource } : {}) };
  if (neededPods > currentPods) {
    const first = load.find((p) => podsFor(p.hi95, capacityPerPod) > currentPods);
    const before = first?.t ?? peakAt;
    return { ...base, before, action: 'scale-up', text: `scale ${service} to ${neededPods} pods before ${clockTime(before)} — ${tail}` };
  }
  const until = load[load.length - 1]?.t ?? peakAt;
  if (neededPods < currentPods) {
    return { ...base, action: 'scale-down', text: `${service} needs ${neededPods} of its ${currentPods} pods until ${clockTime(until)} — ${tail}` };
  }
  return { ...base, action: 'hold', text: `${service}'s ${currentPods} pod${currentPods === 1 ? '' : 's'} cover the forecast until ${clockTime(until)} — ${tail}` };
}
