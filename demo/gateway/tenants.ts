/**
 * The sandbox's tenants. API keys are secrets: a snapshot of a variable holding one must be redacted, which
 * is why they look like real keys. Plans set the rate limits.
 */
export interface Plan {
  name: 'free' | 'team' | 'enterprise' | 'internal';
  /** Messages per second, sustained. */
  ratePerSecond: number;
  /** Extra messages allowed in a burst. */
  burst: number;
  maxPayloadBytes: number;
}

export interface Tenant {
  id: string;
  name: string;
  apiKey: string;
  plan: Plan;
}

export const PLANS: Record<Plan['name'], Plan> = {
  free: { name: 'free', ratePerSecond: 5, burst: 10, maxPayloadBytes: 16 * 1024 },
  team: { name: 'team', ratePerSecond: 50, burst: 100, maxPayloadBytes: 64 * 1024 },
  enterprise: { name: 'enterprise', ratePerSecond: 500, burst: 1000, maxPayloadBytes: 256 * 1024 },
  /** Our own load tests: never rate limited. */
  internal: { name: 'internal', ratePerSecond: 1_000_000, burst: 1_000_000, maxPayloadBytes: 256 * 1024 },
};

export const TENANTS: Tenant[] = [
  { id: 'acme', name: 'Acme Corp', apiKey: 'sk_live_acme_4f9a7c21d8e64b0c9a51f3e2', plan: PLANS.enterprise },
  { id: 'globex', name: 'Globex', apiKey: 'sk_live_globex_8b2d6e0f1a3c4957b6d2e9f0', plan: PLANS.enterprise },
  { id: 'initech', name: 'Initech', apiKey: 'sk_live_initech_1c7e9a3b5d2f4608a1b3c5d7', plan: PLANS.team },
  { id: 'umbrella', name: 'Umbrella', apiKey: 'sk_live_umbrella_9d4f2b6a8c0e4137d9f1b3a5', plan: PLANS.team },
  { id: 'hooli', name: 'Hooli', apiKey: 'sk_live_hooli_3a5c7e9b1d2f4860b2d4f6a8', plan: PLANS.team },
  { id: 'vandelay', name: 'Vandelay Industries', apiKey: 'sk_live_vandelay_6e8a0c2d4f1b4359e7a9c1d3', plan: PLANS.free },
  { id: 'stark', name: 'Stark Industries', apiKey: 'sk_live_stark_2b4d6f8a0c1e4725b3d5f7a9', plan: PLANS.enterprise },
  { id: 'wayne', name: 'Wayne Enterprises', apiKey: 'sk_live_wayne_7f9b1d3e5a0c4246f8a0b2c4', plan: PLANS.team },
  { id: 'tyrell', name: 'Tyrell Corp', apiKey: 'sk_live_tyrell_0d2f4a6c8e1b4973d1f3a5b7', plan: PLANS.free },
  { id: 'soylent', name: 'Soylent', apiKey: 'sk_live_soylent_5c7e9a1b3d0f4684c6e8a0b2', plan: PLANS.free },
];

/** The tenant benchmarks use; not part of the simulated users' mix. */
export const LOADTEST_TENANT: Tenant = { id: 'loadtest', name: 'Load test', apiKey: 'sk_test_loadtest_0000000000000000000000', plan: PLANS.internal };
