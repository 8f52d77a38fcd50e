/**
 * Load generator, run by run.ts in its own process (pinned to its own core): POSTs with autocannon
 * for the warm-up and then the measured seconds, and prints a LoadResult as JSON on stdout.
 *
 * The body is fixed, or drawn from credentials minted before the case (see LoadBody): codes are
 * handed out once each across all connections; refresh chains are owned by one connection each,
 * which presents the refresh token of the chain's previous response. Warm-up connections are other
 * connections than the measured ones (autocannon makes new ones), so they take chains of their own.
 *
 * Usage: node --import tsx bench/load.ts '<LoadSpec JSON>'
 */
import { readFileSync } from 'node:fs';
import autocannon, { type Client, type Options, type Request } from 'autocannon';
import { refreshBody, type LoadResult, type LoadSpec } from './common.ts';

const spec = JSON.parse(process.argv[2] ?? '') as LoadSpec;

/** Sent once the minted credentials have run out: refused by both servers, so counted as failures. */
const SPENT = { once: 'grant_type=authorization_code&code=spent&code_verifier=spent', chain: 'grant_type=refresh_token&refresh_token=spent' };

let exhausted = false;
let instance: ReturnType<typeof autocannon> | undefined;
function runOut(): void {
  if (!exhausted) process.stderr.write('the minted credentials ran out; the measured run stops at the next second\n');
  exhausted = true;
  instance?.stop?.();
}

/** A good response: a 200 whose body holds every `expect`. */
const isGood = (status: number, body: string): boolean => status === 200 && spec.expect.every((e) => body.includes(e));

/**
 * The verdict on the response just handled, for verifyBody: autocannon calls a request's
 * onResponse and then verifyBody for the same response in the same tick, and counts a false from
 * verifyBody as a mismatch of the phase running (warm-up or measured). Non-2xx responses pass
 * here, as autocannon counts them already.
 */
let verdict = true;
const judge = (status: number, body: string): boolean => {
  const good = isGood(status, body);
  verdict = good || status < 200 || status > 299;
  return good;
};

function pool(file: string): string[] {
  return (JSON.parse(readFileSync(file, 'utf8')) as string[]).reverse(); // pop() hands them out in order
}

/** Each request takes the next body; none is sent twice. */
function once(file: string): Pick<Options, 'requests'> {
  const bodies = pool(file);
  const next = (): string => bodies.pop() ?? (runOut(), SPENT.once);
  return { requests: [{ setupRequest: (req) => ({ ...req, body: next() }), onResponse: (status, body) => void judge(status, body) }] };
}

/**
 * Each connection follows `perConnection` chains in turn: it presents the front token and, when
 * the answer is good, queues the new refresh token it carries. A chain whose request failed or got
 * no answer is dropped (its token may have been retired, and presenting it again would be reuse);
 * a connection left without chains takes fresh ones from the pool.
 */
function chains(file: string, perConnection: number): Pick<Options, 'setupClient'> {
  const heads = pool(file);
  const take = (n: number) => heads.splice(Math.max(0, heads.length - n));
  return {
    setupClient(client: Client) {
      const ring = take(perConnection);
      const request: Request = {
        setupRequest(req) {
          if (ring.length === 0) ring.push(...take(perConnection));
          const token = ring.shift();
          if (token === undefined) runOut();
          return { ...req, body: token === undefined ? SPENT.chain : refreshBody(token) };
        },
        // Only a good answer puts its chain back, as the successor token; a request that failed or got no answer ends its chain.
        onResponse(status, body) {
          if (!judge(status, body)) return;
          try {
            const next = (JSON.parse(body) as { refresh_token?: unknown }).refresh_token;
            if (typeof next === 'string') ring.push(next);
          } catch {
            // judged good, so it holds `"refresh_token":"`; not JSON would end the chain
          }
        },
      };
      client.setRequests([request]);
    },
  };
}

function bodyOptions(): Partial<Options> {
  const b = spec.body;
  if (b.kind === 'fixed') return { body: b.body, requests: [{ onResponse: (status, body) => void judge(status, body) }] };
  if (b.kind === 'once') return once(b.file);
  return chains(b.file, b.perConnection);
}

instance = autocannon({
  url: spec.url,
  method: 'POST',
  headers: spec.headers,
  connections: spec.connections,
  duration: spec.duration,
  ...(spec.warmup > 0 ? { warmup: { connections: spec.connections, duration: spec.warmup } } : {}),
  ...bodyOptions(),
  verifyBody: () => verdict,
});
const result = await instance;

const out: LoadResult = {
  reqPerSec: result.requests.average,
  p50: result.latency.p50,
  p99: result.latency.p99,
  non2xx: result.non2xx,
  errors: result.errors,
  timeouts: result.timeouts,
  mismatches: result.mismatches,
  statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, s]) => [code, s.count])),
  exhausted,
  cpuSeconds: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
};
process.stdout.write(JSON.stringify(out) + '\n');
