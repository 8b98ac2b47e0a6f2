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

/**
 * The gateway's metric handles, looked up by strings it already holds (route, status, tenant) so the hot
 * path does no label-object work per request.
 */
export class GatewayMetrics {
  private readonly requests = new Map<string, Map<number, ReturnType<Telemetry['counter']>>>();
  private readonly durations = new Map<string, ReturnType<Telemetry['histogram']>>();
  private readonly perTenant = new Map<
    string,
    { json: ReturnType<Telemetry['counter']>; binary: ReturnType<Telemetry['counter']>; bytes: ReturnType<Telemetry['counter']>; duplicates: ReturnType<Telemetry['counter']> }
  >();
  readonly messageBytes: ReturnType<Telemetry['histogram']>;

  constructor(private readonly telemetry: Telemetry) {
    this.messageBytes = telemetry.histogram('gw_message_bytes');
  }

  request(route: string, status: number): ReturnType<Telemetry['counter']> {
    let byStatus = this.requests.get(route);
    if (!byStatus) this.requests.set(route, (byStatus = new Map()));
    let counter = byStatus.get(status);
    if (!counter) byStatus.set(status, (counter = this.telemetry.counter('gw_http_requests_total', { route, code: String(status) })));
    return counter;
  }

  duration(route: string): ReturnType<Telemetry['histogram']> {
    let histogram = this.durations.get(route);
    if (!histogram) this.durations.set(route, (histogram = this.telemetry.histogram('gw_http_request_duration_ms', { route })));
    return histogram;
  }

  tenant(tenant: string, plan: string) {
    let handles = this.perTenant.get(tenant);
    if (!handles) {
      handles = {
        json: this.telemetry.counter('gw_messages_total', { tenant, plan, type: 'json' }),
        binary: this.telemetry.counter('gw_messages_total', { tenant, plan, type: 'binary' }),
        bytes: this.telemetry.counter('gw_bytes_total', { tenant, plan }),
        duplicates: this.telemetry.counter('gw_duplicate_messages_total', { tenant }),
      };
      this.perTenant.set(tenant, handles);
    }
    return handles;
  }
}
