/**
 * From a load forecast to pods and money: pods needed = ⌈requests/s ÷ capacity per pod⌉ (at least one), cost
 * per hour = pods × price per pod-hour; and the scaling advice a person can act on.
 */
import type { CostSummary, ForecastPoint, ScalingAdvice } from '../../protocol/predict';

export interface CapacitySettings {
  capacityPerPod: number;
  pricePerPodHour: number;
  currency: string;
}

export const DEFAULT_CAPACITY: CapacitySettings = { capacityPerPod: 100, pricePerPodHour: 0.1, currency: 'USD' };

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
export function scalingAdvice(service: string, load: ForecastPoint[], currentPods: number, capacityPerPod: number): ScalingAdvice {
  let peak = 0;
  let peakAt = load[0]?.t ?? Date.now();
  for (const p of load) {
    if (p.hi95 > peak) {
      peak = p.hi95;
      peakAt = p.t;
    }
  }
  const neededPods = podsFor(peak, capacityPerPod);
  const tail = `forecast p95 ${compact(peak)} req/s, capacity ${compact(capacityPerPod)} per pod`;
  const base = { currentPods, neededPods, peak, peakAt, capacityPerPod };
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
