/**
 * `npm run bench`: client credentials (HTTP Basic), introspection, the refresh grant and the code
 * exchange, Tessera against oidc-provider, one server at a time on core 0 with autocannon on core
 * 1. Prints a markdown table and whether the targets are met, and writes the same to
 * .bench/results.md. Exits 0 when targets are missed (it is a report), 1 when a server could not
 * be started or answered a check wrongly.
 *
 * Env: BENCH_DURATION (s, default 10), BENCH_WARMUP (s, default 2), BENCH_CONNECTIONS (default 50),
 * BENCH_CASES (comma-separated, default all), BENCH_PROFILE (a directory for the servers' CPU profiles), BENCH_CODE_RATE (req/s the code pool is sized for,
 * default 5000), BENCH_DATABASE_URL or TESSERA_TEST_DATABASE_URL (also run Tessera on a fresh
 * PostgreSQL database).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import type { LoadResult, LoadSpec } from './common.ts';
import { machineCpuSeconds, pinningNote, processCpuSeconds, ROOT, run, waitQuiet } from './proc.ts';
import { CASE_NAMES, startOidcProvider, startTessera, type CaseName, type Target } from './servers.ts';
import type { Demand } from './site-cases.ts';

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

const DURATION = envNumber('BENCH_DURATION', 10);
const WARMUP = envNumber('BENCH_WARMUP', 2);
const CONNECTIONS = envNumber('BENCH_CONNECTIONS', 50);
const CODE_RATE = envNumber('BENCH_CODE_RATE', 5000);
const PG_URL = process.env.BENCH_DATABASE_URL || process.env.TESSERA_TEST_DATABASE_URL || '';
const CASES = envCases();

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

interface Goal {
  /** Tessera's req/s at least `ratio` × oidc-provider's. */
  ratio?: number;
  /** Tessera's req/s at least this. */
  reqPerSec?: number;
  /** p99 at most this, ms. */
  p99?: number;
  /** The goal holds for Tessera on this database only; the other rows are reported. */
  database?: 'SQLite' | 'PostgreSQL';
}

/** From the issue; a case without a goal is reported only. */
const TARGETS: Record<CaseName, Goal | undefined> = {
  client_credentials: { ratio: 2.5, p99: 15 },
  introspection: { ratio: 1.2 },
  refresh_token: { reqPerSec: 2000, ratio: 1.5, database: 'SQLite' },
  authorization_code: undefined,
};

interface Row {
  kase: CaseName;
  server: string;
  isBaseline: boolean;
  database: Target['database'];
  tokenFormat: string;
  result: LoadResult;
  /** Cores' worth of CPU used by other processes while this case ran (undefined without /proc). */
  otherCores: number | undefined;
}

/** Above this, other processes disturbed the measurement and the row is flagged. */
const NOISE_CORES = 0.15;

const failures = (r: LoadResult) => r.non2xx + r.errors + r.timeouts + r.mismatches;
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function load(target: Target, kase: CaseName): Promise<Row> {
  const preparing = performance.now();
  const c = await target.prepare(kase, DEMAND);
  const minted = c.body.kind === 'fixed' ? '' : `minted ${fmt(kase === 'refresh_token' ? DEMAND.refreshChains : DEMAND.codes)} in ${fmt((performance.now() - preparing) / 1000, 1)} s; `;
  const spec: LoadSpec = { url: c.url, headers: c.headers, body: c.body, expect: c.expect, connections: CONNECTIONS, duration: DURATION, warmup: WARMUP };
  if (!(await waitQuiet())) process.stderr.write(`  ${kase}: the machine stayed busy for 60 s; measuring anyway\n`);
  process.stderr.write(`  ${kase}: ${minted}${WARMUP} s warm-up + ${DURATION} s…\n`);
  const before = { machine: machineCpuSeconds(), server: processCpuSeconds(target.pid), self: process.cpuUsage(), at: performance.now() };
  const out = await run(['node', '--import', 'tsx', 'bench/load.ts', JSON.stringify(spec)], {}, 1);
  const result = JSON.parse(out.trim().split('\n').at(-1)!) as LoadResult;
  if (failures(result) > 0) process.stderr.write(`  ${kase}: ${failures(result)} bad responses ${JSON.stringify(result.statusCodes)}\n${target.output().slice(-4000)}\n`);
  // Whatever the machine spent beyond the server, the load generator and this process was someone else's.
  const machine = machineCpuSeconds();
  const server = processCpuSeconds(target.pid);
  const self = process.cpuUsage(before.self);
  const seconds = (performance.now() - before.at) / 1000;
  let otherCores: number | undefined;
  if (machine !== undefined && before.machine !== undefined && server !== undefined && before.server !== undefined) {
    const other = machine - before.machine - (server - before.server) - result.cpuSeconds - (self.user + self.system) / 1e6;
    otherCores = Math.max(0, other) / seconds;
  }
  // Below ~0.9 while loaded, the server waited (on its database, on I/O) rather than computed.
  const serverCores = server !== undefined && before.server !== undefined ? fmt((server - before.server) / seconds, 2) : '?';
  process.stderr.write(`  ${kase}: ${fmt(result.reqPerSec)} req/s, p99 ${result.p99} ms; the server used ${serverCores} of its core, other processes ${otherCores === undefined ? '?' : fmt(otherCores, 2)}\n`);
  return { kase, server: target.server, isBaseline: target.isBaseline, database: target.database, tokenFormat: c.tokenFormat, result, otherCores };
}

const active = new Set<Target>();
process.once('SIGINT', () => {
  void Promise.all([...active].map((t) => t.stop())).finally(() => process.exit(130));
});

async function bench(name: string, start: () => Promise<Target>, rows: Row[], errors: string[]): Promise<void> {
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
  try {
    for (const kase of CASES) {
      try {
        rows.push(await load(target, kase));
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

function describeGoal(kase: CaseName, goal: Goal | undefined): string {
  if (!goal) return `${kase} reported only`;
  const parts = [
    ...(goal.reqPerSec !== undefined ? [`≥ ${fmt(goal.reqPerSec)} req/s`] : []),
    ...(goal.ratio !== undefined ? [`≥ ${goal.ratio}×`] : []),
    ...(goal.p99 !== undefined ? [`p99 ≤ ${goal.p99} ms`] : []),
  ];
  return `${kase} ${parts.join(' and ')}${goal.database ? ` on ${goal.database}` : ''}`;
}

/** What is wrong with a row's measurement itself (then its numbers, and ratios against it, mean little). */
function invalid(r: Row): string[] {
  return [
    ...(failures(r.result) ? [`${failures(r.result)} failed or wrong responses ${JSON.stringify(r.result.statusCodes)}`] : []),
    ...(r.result.exhausted ? [r.kase === 'authorization_code' ? 'the minted codes ran out (raise BENCH_CODE_RATE)' : 'the refresh-token chains ran out (too many broke)'] : []),
  ];
}

/** One line of the targets list for a Tessera row: met, missed, or reported. */
function verdict(r: Row, base: Row | undefined): { line: string; missed: boolean } {
  const goal = TARGETS[r.kase];
  const applies = goal !== undefined && (goal.database === undefined || goal.database === r.database);
  const ratio = base ? r.result.reqPerSec / base.result.reqPerSec : undefined;
  const problems = invalid(r);
  const parts = [`${fmt(r.result.reqPerSec)} req/s`, ratio === undefined ? 'no oidc-provider result to compare with' : `${fmt(ratio, 2)}× oidc-provider`, `p99 ${r.result.p99} ms`];
  if (applies) {
    if (goal.reqPerSec !== undefined && r.result.reqPerSec < goal.reqPerSec) problems.push(`${fmt(r.result.reqPerSec)} req/s < ${fmt(goal.reqPerSec)}`);
    if (goal.ratio !== undefined && (ratio === undefined || ratio < goal.ratio)) problems.push(ratio === undefined ? 'no oidc-provider result to compare with' : `req/s ratio ${fmt(ratio, 2)}× < ${goal.ratio}×`);
    if (goal.p99 !== undefined && r.result.p99 > goal.p99) problems.push(`p99 ${r.result.p99} ms > ${goal.p99} ms`);
  }
  const what = `${r.kase}, ${r.server}`;
  if (problems.length) return { line: `- ❌ ${applies ? 'MISSED' : 'INVALID'} ${what}: ${problems.join('; ')}`, missed: true };
  if (applies) return { line: `- ✅ met ${what}: ${parts.join(', ')} (target ${describeGoal(r.kase, goal).slice(r.kase.length + 1)})`, missed: false };
  return { line: `- ℹ️ reported ${what}: ${parts.join(', ')} (${goal ? `the target is for ${goal.database}` : 'no target'})`, missed: false };
}

function report(rows: Row[], errors: string[]): string {
  const baseline = (kase: CaseName) => rows.find((r) => r.isBaseline && r.kase === kase);
  const lines = [
    `# Tessera benchmark, ${new Date().toISOString()}`,
    '',
    `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}; ${pinningNote}; ` +
      `${CONNECTIONS} connections, ${WARMUP} s warm-up then ${DURATION} s per case.`,
    '',
    '| case | server | req/s | p50 ms | p99 ms | ratio vs oidc-provider | access token |',
    '| --- | --- | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const kase of CASES) {
    for (const r of rows.filter((x) => x.kase === kase)) {
      const base = baseline(kase);
      const ratio = r.isBaseline ? '1.00×' : base ? `${fmt(r.result.reqPerSec / base.result.reqPerSec, 2)}×` : 'n/a';
      const bad = (failures(r.result) ? ` ⚠ ${failures(r.result)} bad` : '') + (r.result.exhausted ? ' ⚠ ran out' : '') + ((r.otherCores ?? 0) > NOISE_CORES ? ' ⚠ noisy' : '');
      lines.push(`| ${kase} | ${r.server} | ${fmt(r.result.reqPerSec)}${bad} | ${r.result.p50} | ${r.result.p99} | ${ratio} | ${r.tokenFormat} |`);
    }
  }
  const noisy = rows.filter((r) => (r.otherCores ?? 0) > NOISE_CORES);
  if (noisy.length) {
    lines.push('', '⚠ noisy: other processes used CPU during these cases, so their numbers are low and p99 high ' +
      '(for Tessera on PostgreSQL this includes the database server):');
    for (const r of noisy) lines.push(`- ${r.kase}, ${r.server}: ${fmt(r.otherCores!, 2)} of a core`);
  }
  lines.push('', `Targets (issue: ${CASES.map((k) => describeGoal(k, TARGETS[k])).join('; ')}):`, '');
  let misses = 0;
  for (const r of rows.filter((x) => x.isBaseline && invalid(x).length)) {
    misses++;
    lines.push(`- ❌ INVALID ${r.kase}, ${r.server}: ${invalid(r).join('; ')}; the ratios of this case mean little`);
  }
  for (const r of rows.filter((x) => !x.isBaseline)) {
    const v = verdict(r, baseline(r.kase));
    if (v.missed) misses++;
    lines.push(v.line);
  }
  for (const e of errors) lines.push(`- ❌ ERROR ${e.split('\n')[0]}`);
  lines.push('', misses + errors.length ? `${misses} target(s) missed or row(s) invalid, ${errors.length} error(s).` : 'All targets met.');
  return lines.join('\n') + '\n';
}

const rows: Row[] = [];
const errors: string[] = [];
await bench('oidc-provider', startOidcProvider, rows, errors);
await bench('Tessera (SQLite)', () => startTessera(), rows, errors);
if (PG_URL) await bench('Tessera (PostgreSQL)', () => startTessera(PG_URL), rows, errors);

const text = report(rows, errors);
process.stdout.write('\n' + text);
await mkdir(join(ROOT, '.bench'), { recursive: true });
await writeFile(join(ROOT, '.bench', 'results.md'), text);
process.stdout.write(`\n(written to .bench/results.md)\n`);
process.exit(errors.length ? 1 : 0);
