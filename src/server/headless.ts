/**
 * `sg server`: the backend without an editor. Serves its status over HTTP on loopback so scripts (and
 * `npm start`) can see it is up, the fleet's series at /metrics for Prometheus, and takes OTLP/HTTP traces
 * at /v1/traces from any OpenTelemetry-instrumented service.
 */
import { createServer, type Server } from 'node:http';
import { createLogger, stderrSink, type LogLevel } from '../common/logger';
import type { ServerSettings } from '../protocol/settings';
import { Backend } from './backend';
import { exposition } from './prometheus';
import { OtlpTraceReceiver } from './traces/otlpReceiver';

export interface HeadlessServer {
  readonly backend: Backend;
  readonly url: string;
  close(): Promise<void>;
}

export async function startHeadless(settings: ServerSettings, { port = 0, logLevel = 'info' }: { port?: number; logLevel?: LogLevel } = {}): Promise<HeadlessServer> {
  const log = createLogger(stderrSink, logLevel, 'server');
  const backend = new Backend(log, `streamgate-headless-${process.pid}`);
  await backend.configure(settings);
  const otlp = new OtlpTraceReceiver(() => backend.nats.nc, log);
  const http: Server = createServer((req, res) => {
    if (req.url === '/v1/traces') {
      otlp.handle(req, res).catch((error: unknown) => {
        log.warn(`OTLP traces: ${error instanceof Error ? error.message : String(error)}`);
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end();
      });
      return;
    }
    if (req.method === 'GET' && (req.url === '/status' || req.url === '/healthz')) {
      const status = backend.status();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(req.url === '/status' ? { ...status, otlp: otlp.status } : { ok: true }));
      return;
    }
    if (req.method === 'GET' && req.url === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(exposition(backend.windows) + backend.predict.exposition());
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found: try /status, /healthz, /metrics or POST /v1/traces (OTLP)\n');
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, '127.0.0.1', () => resolve());
  });
  const address = http.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : port}`;
  return {
    backend,
    url,
    async close() {
      await new Promise<void>((resolve) => http.close(() => resolve()));
      await backend.dispose();
    },
  };
}
