/**
 * What the gateway needs of its instrumentation. In the fleet it is the StreamGate agent; the overhead
 * benchmark runs the same gateway with NoTelemetry to measure what the agent costs.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Agent } from '../../src/agent';

export type Telemetry = Pick<Agent, 'counter' | 'gauge' | 'histogram' | 'event' | 'log' | 'handlePprof'>;

const noopMetric = { inc() {}, set() {}, record() {} };

/** No instrumentation at all: the baseline of the overhead benchmark. */
export const NoTelemetry: Telemetry = {
  counter: () => noopMetric,
  gauge: () => noopMetric,
  histogram: () => noopMetric,
  event: () => '',
  log: () => {},
  handlePprof: (_req: IncomingMessage, _res: ServerResponse) => false,
};
