/**
 * `npm run bench`: client credentials (HTTP Basic), introspection, the refresh grant and the code
 * exchange, Tessera as shipped against oidc-provider and (for the first two) against a bare
 * node:http server, one server at a time on core 0 with autocannon on core 1. With `--large`
 * (or BENCH_LARGE=1), Tessera also runs the first two on a database grown to the issue's size.
 * Prints a markdown table and whether the targets are met, and writes the same to
 * .bench/results.md. Exits 0 when targets are missed (it is a report), 1 when a server could not
 * be started or answered a check wrongly.
 *
 * A case with a p99 goal runs a second time at BENCH_LATENCY_CONNECTIONS: with 50 connections every
 * request waits behind the 49 others by construction (mean latency = connections ÷ req/s), so the
 * p99 there measures the queue the load generator keeps, the bare server's included.
 *
 * Env: BENCH_DURATION (s, default 10), BENCH_WARMUP (s, default 2), BENCH_CONNECTIONS (default 50),
 * BENCH_LATENCY_CONNECTIONS (default 10, autocannon's own default; 0 skips the latency pass),
 * BENCH_CASES (comma-separated, default all), BENCH_PROFILE (a directory for the servers' CPU profiles), BENCH_CODE_RATE (req/s the code pool is sized for,
 * default 5000), BENCH_DATABASE_URL or TESSERA_TEST_DATABASE_URL (also run Tessera on a fresh
 * PostgreSQL database), BENCH_LARGE (1: as --large).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LARGE, type LoadResult, type LoadSpec } from './common.ts';
import { machineCpuSeconds, pinningNote, processCpuSeconds, processRssBytes, ROOT, run, waitQuiet } from './proc.ts';
import { failures, fmt, report, type Goal, type Row, type Run } from './report.ts';
import { CASE_NAMES, FIXED_CASES, startBare, startOidcProvider, type CaseName, type Target } from './servers.ts';
import type { Demand } from './site-cases.ts';
import { startTessera } from './tessera.ts';

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number (got ${JSON.stringify(raw)})`);
  return n;
}

function envCases(): CaseName[] {
  const raw = process.env.BENCH_CASES;
  if (!raw) return [...CASE_NAMES];
  const asked = raw.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = asked.filter((c) => !CASE_NAMES.includes(c as CaseName));
  if (unknown.length || !asked.length) throw new Error(`BENCH_CASES: unknown case(s) ${unknown.join(', ')}; the cases are ${CASE_NAMES.join(', ')}`);
  return CASE_NAMES.filter((c) => asked.includes(c));
}

function largeAsked(): boolean {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => a !== '--large');
  if (unknown.length) throw new Error(`unknown argument(s) ${unknown.join(' ')}; the only one is --large`);
  return args.includes('--large') || ['1', 'true', 'yes'].includes((process.env.BENCH_LARGE ?? '').toLowerCase());
}

const DURATION = envNumber('BENCH_DURATION', 10);
const WARMUP = envNumber('BENCH_WARMUP', 2);
const CONNECTIONS = envNumber('BENCH_CONNECTIONS', 50);
const LATENCY_CONNECTIONS = envNumber('BENCH_LATENCY_CONNECTIONS', 10);
const CODE_RATE = envNumber('BENCH_CODE_RATE', 5000);
const PG_URL = process.env.BENCH_DATABASE_URL || process.env.TESSERA_TEST_DATABASE_URL || '';
const CASES = envCases();
const LARGE_RUN = largeAsked();

/** Chains of refresh tokens each connection follows in turn, so that each grant is refreshed a few times only. */
const CHAINS_PER_CONNECTION = 20;
/**
 * What the minted cases need. Warm-up connections and measured ones each take their own chains,
 * and one more set is spare for chains that break. Codes: one per request at CODE_RATE for the
 * warm-up and the measured seconds, with a quarter more for margin (the run stops, flagged, if they
 * run out).
 */
const DEMAND: Demand = {
  chainsPerConnection: CHAINS_PER_CONNECTION,
  refreshChains: CONNECTIONS * CHAINS_PER_CONNECTION * ((WARMUP > 0 ? 2 : 1) + 1),
  codes: Math.ceil((WARMUP + DURATION) * CODE_RATE * 1.25) + CONNECTIONS,
};

/** From the issue; a case without a goal is reported only. */
const TARGETS: Record<CaseName, Goal | undefined> = {
  client_credentials: { bare: 0.75, ratio: 2, p99: 10, database: 'SQLite' },
  introspection: { ratio: 2 },
  refresh_token: { reqPerSec: 2000, ratio: 1.5, database: 'SQLite' },
  authorization_code: undefined,
};
/** On the large database, each case's req/s at most this fraction below the small database's. */
const LARGE_GOAL = 0.2;

async function load(target: Target, kase: CaseName, connections: number): Promise<Row> {
  const preparing = performance.now();
  const c = await target.prepare(kase, DEMAND);
  const minted = c.body.kind === 'fixed' ? '' : `minted ${fmt(kase === 'refresh_token' ? DEMAND.refreshChains : DEMAND.codes)} in ${fmt((performance.now() - preparing) / 1000, 1)} s; `;
  const spec: LoadSpec = { url: c.url, headers: c.headers, body: c.body, expect: c.expect, connections, duration: DURATION, warmup: WARMUP };
  if (!(await waitQuiet())) process.stderr.write(`  ${kase}: the machine stayed busy for 60 s; measuring anyway\n`);
  process.stderr.write(`  ${kase}: ${minted}${connections} connections, ${WARMUP} s warm-up + ${DURATION} s…\n`);
  const before = { machine: machineCpuSeconds(), server: processCpuSeconds(target.pid), self: process.cpuUsage(), at: performance.now(), log: target.written() };
  const out = await run(['node', '--import', 'tsx', 'bench/load.ts', JSON.stringify(spec)], {}, 1);
  const result = JSON.parse(out.trim().split('\n').at(-1)!) as LoadResult;
  if (failures(result) > 0) process.stderr.write(`  ${kase}: ${failures(result)} bad responses ${JSON.stringify(result.statusCodes)}\n${target.output().slice(-4000)}\n`);
  // Whatever the machine spent beyond the server, the load generator and this process was someone else's.
  const machine = machineCpuSeconds();
  const server = processCpuSeconds(target.pid);
  const self = process.cpuUsage(before.self);
  const rss = processRssBytes(target.pid);
  const log = target.written();
  const seconds = (performance.now() - before.at) / 1000;
  let otherCores: number | undefined;
  if (machine !== undefined && before.machine !== undefined && server !== undefined && before.server !== undefined) {
    const other = machine - before.machine - (server - before.server) - result.cpuSeconds - (self.user + self.system) / 1e6;
    otherCores = Math.max(0, other) / seconds;
  }
  // Below ~0.9 while loaded, the server waited (on its database, on I/O) rather than computed.
  const serverCores = server !== undefined && before.server !== undefined ? fmt((server - before.server) / seconds, 2) : '?';
  const logged = `logged ${fmt(log.lines - before.log.lines)} lines (${fmt((log.bytes - before.log.bytes) / 2 ** 20, 1)} MiB)`;
  process.stderr.write(`  ${kase}: ${fmt(result.reqPerSec)} req/s, p99 ${result.p99} ms; the server used ${serverCores} of its core, ${logged}, ` +
    `RSS ${rss === undefined ? '?' : fmt(rss / 2 ** 20)} MiB; other processes ${otherCores === undefined ? '?' : fmt(otherCores, 2)}\n`);
  return { kase, server: target.server, kind: target.kind, database: target.database, large: target.large ?? false, connections, tokenFormat: c.tokenFormat, result, otherCores, rss };
}

const active = new Set<Target>();
process.once('SIGINT', () => {
  void Promise.all([...active].map((t) => t.stop())).finally(() => process.exit(130));
});

async function bench(name: string, start: () => Promise<Target>, rows: Row[], errors: string[], notes: Run['notes']): Promise<void> {
  process.stderr.write(`${name}: starting\n`);
  let target: Target;
  try {
    target = await start();
  } catch (e) {
    errors.push(`${name}: ${(e as Error).message}`);
    process.stderr.write(`${name}: FAILED\n${(e as Error).message}\n`);
    return;
  }
  active.add(target);
  notes.push({ server: target.server, lines: target.notes });
  try {
    for (const kase of CASES.filter((k) => target.cases.includes(k))) {
      try {
        rows.push(await load(target, kase, CONNECTIONS));
        if (LATENCY_CONNECTIONS > 0 && LATENCY_CONNECTIONS !== CONNECTIONS && TARGETS[kase]?.p99 !== undefined && !target.large) {
          rows.push(await load(target, kase, LATENCY_CONNECTIONS));
        }
      } catch (e) {
        errors.push(`${name}, ${kase}: ${(e as Error).message}`);
        process.stderr.write(`${name}, ${kase}: FAILED\n${(e as Error).message}\n`);
      }
    }
  } finally {
    await target.stop();
    active.delete(target);
  }
}

const rows: Row[] = [];
const errors: string[] = [];
const notes: Run['notes'] = [];
const fixedCases = CASES.filter((k) => (FIXED_CASES as readonly CaseName[]).includes(k));
await bench('oidc-provider', startOidcProvider, rows, errors, notes);
if (fixedCases.length) await bench('bare node:http', startBare, rows, errors, notes);
await bench('Tessera (SQLite)', () => startTessera(), rows, errors, notes);
if (PG_URL) await bench('Tessera (PostgreSQL)', () => startTessera({ pgUrl: PG_URL }), rows, errors, notes);
if (LARGE_RUN && fixedCases.length) await bench('Tessera (SQLite, large)', () => startTessera({ large: true }), rows, errors, notes);
if (LARGE_RUN && !fixedCases.length) process.stderr.write('--large: BENCH_CASES has neither client_credentials nor introspection; the large database is not run\n');

const n = (x: number) => x.toLocaleString('en-US');
const text = report({
  cases: CASES,
  targets: TARGETS,
  largeGoal: LARGE_GOAL,
  largeSize: `${n(LARGE.principals)} principals in ${n(LARGE.tenants)} tenants, ${n(LARGE.revocations)} revoked tokens held in memory`,
  connections: CONNECTIONS,
  setting: `${pinningNote}; ${CONNECTIONS} connections${LATENCY_CONNECTIONS > 0 && LATENCY_CONNECTIONS !== CONNECTIONS ? ` (and ${LATENCY_CONNECTIONS} for the latency of a case with a p99 goal)` : ''}, ${WARMUP} s warm-up then ${DURATION} s per case; Tessera as shipped (default configuration)`,
  notes,
}, rows, errors);
process.stdout.write('\n' + text);
await mkdir(join(ROOT, '.bench'), { recursive: true });
await writeFile(join(ROOT, '.bench', 'results.md'), text);
process.stdout.write(`\n(written to .bench/results.md)\n`);
process.exit(errors.length ? 1 : 0);
