/**
 * What `sg` prints for programs that run it (the extension's "Start sandbox fleet"): one line, the prefix
 * and then JSON, on stdout once the fleet is up.
 */
import * as z from 'zod/mini';
import './schema';

export const FLEET_READY_PREFIX = 'SG_FLEET_READY ';

export const FleetReadySchema = z.object({
  nats: z.string(),
  pods: z.array(z.object({ pod: z.string(), service: z.string(), pid: z.number(), httpPort: z.number() })),
  /** The folder holding the gateway's TypeScript source, to open as a workspace. */
  source: z.string(),
});
export type FleetReady = z.infer<typeof FleetReadySchema>;

/** What a sandbox pod (demo/gateway) prints on stdout once it serves, for the fleet supervisor. */
export const POD_READY_PREFIX = 'GATEWAY_READY ';
export const PodReadySchema = z.object({ pod: z.string(), port: z.number() });
export type PodReady = z.infer<typeof PodReadySchema>;
