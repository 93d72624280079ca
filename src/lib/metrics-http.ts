/**
 * A bare `GET /metrics` endpoint for processes without the API (`modcast ship`, `modcast consume`), serving the
 * shared registry of src/lib/metrics-registry.ts.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { metricsRegistry } from './metrics-registry.js';

export interface MetricsEndpoint {
  url: string;
  close(): Promise<void>;
}

export async function serveMetrics(port: number, host = '127.0.0.1'): Promise<MetricsEndpoint> {
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    metricsRegistry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': metricsRegistry.contentType }).end(text),
      (e: Error) => res.writeHead(500).end(e.message),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const { port: actual } = server.address() as AddressInfo;
  return { url: `http://${host}:${actual}/metrics`, close: () => new Promise((r) => server.close(() => r())) };
}
