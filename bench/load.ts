/**
 * Load generator, run by run.ts in its own process (pinned to its own core): POSTs one request
 * over and over with autocannon and prints a LoadResult as JSON on stdout.
 *
 * Usage: node --import tsx bench/load.ts '<LoadSpec JSON>'
 */
import autocannon from 'autocannon';
import type { LoadResult, LoadSpec } from './common.ts';

const spec = JSON.parse(process.argv[2] ?? '') as LoadSpec;

const result = await autocannon({
  url: spec.url,
  method: 'POST',
  headers: spec.headers,
  body: spec.body,
  connections: spec.connections,
  duration: spec.duration,
  ...(spec.warmup > 0 ? { warmup: { connections: spec.connections, duration: spec.warmup } } : {}),
  verifyBody: (body) => body.includes(spec.expect),
});

const out: LoadResult = {
  reqPerSec: result.requests.average,
  p50: result.latency.p50,
  p99: result.latency.p99,
  non2xx: result.non2xx,
  errors: result.errors,
  timeouts: result.timeouts,
  mismatches: result.mismatches,
  statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, s]) => [code, s.count])),
  cpuSeconds: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
};
process.stdout.write(JSON.stringify(out) + '\n');
