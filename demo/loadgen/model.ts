/**
 * The load model of the simulated users: a daily cycle compressed in time (one simulated day per
 * `dayMs`, 24 minutes by default), weekly variation, bursts, heavy-tailed session lengths and a Zipf tenant
 * mix. Seeded, so a run can be repeated.
 */

/** mulberry32: a small, fast, seedable PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface LoadModelOptions {
  /** Real milliseconds per simulated day. */
  dayMs: number;
  /** Simulated hour of day at the start (0–24) and weekday (0 = Monday). */
  startHour: number;
  startWeekday: number;
  /** New sessions per real second at the daily peak on a weekday. */
  peakSessionsPerSecond: number;
  tenants: string[];
  seed: number;
  /** Median time between a session's messages (default 700 ms). */
  messageIntervalMs?: number;
}

export interface SimulatedClock {
  day: number;
  weekday: number;
  hour: number;
}

const WEEKLY = [1.0, 1.0, 1.0, 0.98, 0.92, 0.62, 0.55];

export class LoadModel {
  readonly random: () => number;
  private readonly startedAt: number;
  private readonly tenantCdf: number[];
  /** Burst windows as [start, end, multiplier] in simulated hours since the start. */
  private readonly bursts: [number, number, number][] = [];

  constructor(readonly options: LoadModelOptions, now = Date.now()) {
    this.random = prng(options.seed);
    this.startedAt = now;
    const weights = options.tenants.map((_, rank) => 1 / (rank + 1) ** 1.1);
    const total = weights.reduce((a, b) => a + b, 0);
    let acc = 0;
    this.tenantCdf = weights.map((w) => (acc += w / total));
    // About one burst every six simulated hours, lasting 3–10 simulated minutes, 2–3.5× the load.
    const burstRandom = prng(options.seed ^ 0x5bd1e995);
    for (let hour = 0; hour < 24 * 28; hour++) {
      if (burstRandom() < 1 / 6) {
        const start = hour + burstRandom();
        this.bursts.push([start, start + (3 + burstRandom() * 7) / 60, 2 + burstRandom() * 1.5]);
      }
    }
  }

  clock(now = Date.now()): SimulatedClock {
    const simulatedHours = this.simulatedHours(now) + this.options.startHour + this.options.startWeekday * 24;
    const day = Math.floor(simulatedHours / 24);
    return { day, weekday: day % 7, hour: simulatedHours - day * 24 };
  }

  private simulatedHours(now: number): number {
    return ((now - this.startedAt) / this.options.dayMs) * 24;
  }

  /** The daily shape: a quiet night, a late-morning peak and a higher evening peak. */
  static daily(hour: number): number {
    const bump = (center: number, width: number) => Math.exp(-((hour - center) ** 2) / (2 * width ** 2));
    return 0.12 + 0.88 * Math.max(0.85 * bump(11, 2.8), bump(20, 2.2));
  }

  burstMultiplier(now = Date.now()): number {
    const h = this.simulatedHours(now);
    for (const [start, end, multiplier] of this.bursts) if (h >= start && h < end) return multiplier;
    return 1;
  }

  /** New sessions per real second now. */
  sessionRate(now = Date.now()): number {
    const { weekday, hour } = this.clock(now);
    return this.options.peakSessionsPerSecond * LoadModel.daily(hour) * WEEKLY[weekday]! * this.burstMultiplier(now);
  }

  /** Poisson-distributed count with mean `lambda`. */
  poisson(lambda: number): number {
    if (lambda <= 0) return 0;
    const limit = Math.exp(-lambda);
    let k = 0;
    let p = 1;
    do {
      k++;
      p *= this.random();
    } while (p > limit && k < 1000);
    return k - 1;
  }

  /** Pareto(x_m = 4 s, α = 1.5): most sessions are short, a few are very long; capped at 6 min. */
  sessionDurationMs(): number {
    const x = 4000 / (1 - this.random()) ** (1 / 1.5);
    return Math.min(x, 6 * 60_000);
  }

  /** A returning client of the tenant: each tenant has 40 of them, a few much more active than the rest. */
  client(tenant: string): string {
    const rank = Math.min(39, Math.floor(40 * this.random() ** 2.2));
    return `${tenant}-c${String(rank).padStart(2, '0')}`;
  }

  tenant(): string {
    const u = this.random();
    const index = this.tenantCdf.findIndex((c) => u <= c);
    return this.options.tenants[index < 0 ? this.options.tenants.length - 1 : index]!;
  }

  /** Log-normal with the given median. */
  lognormal(median: number, sigma: number): number {
    const u1 = Math.max(1e-12, this.random());
    const u2 = this.random();
    const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    return median * Math.exp(sigma * z);
  }

  messageIntervalMs(): number {
    return Math.min(30_000, Math.max(20, this.lognormal(this.options.messageIntervalMs ?? 700, 0.8)));
  }

  payloadBytes(): number {
    return Math.round(Math.min(12_000, Math.max(16, this.lognormal(400, 1.0))));
  }
}
