/** Per-tenant token buckets: `ratePerSecond` sustained, `burst` on top. */
import type { Plan } from './tenants';

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  /** Takes `cost` tokens; returns 0 when allowed, else the milliseconds until it would be. */
  take(tenant: string, plan: Plan, cost = 1, now = Date.now()): number {
    const capacity = plan.ratePerSecond + plan.burst;
    let bucket = this.buckets.get(tenant);
    if (!bucket) this.buckets.set(tenant, (bucket = { tokens: capacity, updatedAt: now }));
    bucket.tokens = Math.min(capacity, bucket.tokens + ((now - bucket.updatedAt) / 1000) * plan.ratePerSecond);
    bucket.updatedAt = now;
    if (bucket.tokens >= cost) {
      bucket.tokens -= cost;
      return 0;
    }
    return Math.ceil(((cost - bucket.tokens) / plan.ratePerSecond) * 1000);
  }
}
