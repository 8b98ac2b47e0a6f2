/**
 * A real Prometheus (Debian's `prometheus`) on a loopback port, scraping the targets it is given: for the test
 * that /metrics is what Prometheus reads, and that the Grafana dashboard's queries are valid PromQL over it.
 * Its default listen address is 0.0.0.0, so the address is always passed.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findExecutable, freePort, httpOk, spawnService, waitUntil, type ServiceProcess } from './process';

export interface PrometheusServer {
  readonly url: string;
  readonly process: ServiceProcess;
  /** Runs an instant PromQL query through the HTTP API. */
  query(promql: string): Promise<{ status: string; data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] }; error?: string }>;
  stop(): Promise<void>;
}

export const PROMETHEUS_INSTALL_HINT = 'prometheus was not found. On Debian: sudo apt-get install --no-install-recommends prometheus';

export async function startPrometheus(targets: string[], { scrapeIntervalS = 1 } = {}): Promise<PrometheusServer> {
  const binary = findExecutable('prometheus');
  if (!binary) throw new Error(PROMETHEUS_INSTALL_HINT);
  const dir = mkdtempSync(join(tmpdir(), 'sg-prometheus-'));
  const port = await freePort();
  const config = join(dir, 'prometheus.yml');
  writeFileSync(
    config,
    [
      'global:',
      `  scrape_interval: ${scrapeIntervalS}s`,
      `  evaluation_interval: ${scrapeIntervalS}s`,
      'scrape_configs:',
      '  - job_name: streamgate',
      '    static_configs:',
      `      - targets: [${targets.map((t) => `'${t}'`).join(', ')}]`,
      '',
    ].join('\n'),
  );
  const service = spawnService('prometheus', binary, [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], {
    cwd: dir,
    logFile: join(dir, 'prometheus.log'),
  });
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(`prometheus on ${url}`, () => httpOk(`${url}/-/ready`), { service, timeoutMs: 30_000, intervalMs: 100 });
  return {
    url,
    process: service,
    async query(promql) {
      const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
      return (await response.json()) as Awaited<ReturnType<PrometheusServer['query']>>;
    },
    stop: () => service.stop(),
  };
}
