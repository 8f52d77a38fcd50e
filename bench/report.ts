/**
 * The report of a run: one table of every row (with ratios against oidc-provider and the bare
 * limit, and the server's memory), how each server was set up, the large database against the
 * small one, and each target met, missed or reported.
 */
import { cpus } from 'node:os';
import type { LoadResult } from './common.ts';
import type { CaseName, ServerKind, Target } from './servers.ts';

export interface Goal {
  /** Tessera's req/s at least `ratio` × oidc-provider's. */
  ratio?: number;
  /** Tessera's req/s at least this fraction of the bare server's. */
  bare?: number;
  /** Tessera's req/s at least this. */
  reqPerSec?: number;
  /** p99 at most this, ms: at the latency pass's connections when the run has one. */
  p99?: number;
  /** The goal holds for Tessera on this database only; the other rows are reported. */
  database?: 'SQLite' | 'PostgreSQL';
}

export interface Row {
  kase: CaseName;
  server: string;
  kind: ServerKind;
  database: Target['database'];
  large: boolean;
  /** Connections of the load: the run's, or the latency pass's (fewer). */
  connections: number;
  tokenFormat: string;
  result: LoadResult;
  /** Cores' worth of CPU used by other processes while this case ran (undefined without /proc). */
  otherCores: number | undefined;
  /** The server's resident memory (VmRSS) right after the case's load, bytes. */
  rss: number | undefined;
}

export interface Run {
  cases: readonly CaseName[];
  targets: Record<CaseName, Goal | undefined>;
  /** The large database's req/s may be at most this fraction below the small one's. */
  largeGoal: number;
  /** What the large database holds, for the report's wording. */
  largeSize: string;
  /** The connections of the throughput rows; rows with other counts are the latency pass. */
  connections: number;
  /** "50 connections, 2 s warm-up then 10 s per case" and where things ran. */
  setting: string;
  /** How each server was set up (seeding, start-up time). */
  notes: Array<{ server: string; lines: string[] }>;
}

/** Above this, other processes disturbed the measurement and the row is flagged. */
export const NOISE_CORES = 0.15;

export const failures = (r: LoadResult) => r.non2xx + r.errors + r.timeouts + r.mismatches;
export const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const mb = (bytes: number | undefined) => (bytes === undefined ? '?' : fmt(bytes / 2 ** 20));
const pct = (fraction: number) => `${fmt(fraction * 100)} %`;
const signedPct = (fraction: number) => `${fraction >= 0 ? '+' : '−'}${fmt(Math.abs(fraction) * 100, 1)} %`;

/** What is wrong with a row's measurement itself (then its numbers, and ratios against it, mean little). */
export function invalid(r: Row): string[] {
  return [
    ...(failures(r.result) ? [`${failures(r.result)} failed or wrong responses ${JSON.stringify(r.result.statusCodes)}`] : []),
    ...(r.result.exhausted ? [r.kase === 'authorization_code' ? 'the minted codes ran out (raise BENCH_CODE_RATE)' : 'the refresh-token chains ran out (too many broke)'] : []),
  ];
}

function describeGoal(kase: CaseName, goal: Goal | undefined, latencyConnections: number | undefined): string {
  if (!goal) return `${kase} reported only`;
  const parts = [
    ...(goal.bare !== undefined ? [`≥ ${pct(goal.bare)} of the bare limit`] : []),
    ...(goal.ratio !== undefined ? [`≥ ${goal.ratio}× oidc-provider`] : []),
    ...(goal.reqPerSec !== undefined ? [`≥ ${fmt(goal.reqPerSec)} req/s`] : []),
    ...(goal.p99 !== undefined ? [`p99 ≤ ${goal.p99} ms${latencyConnections === undefined ? '' : ` at ${latencyConnections} connections`}`] : []),
  ];
  return `${kase} ${parts.join(' and ')}${goal.database ? ` on ${goal.database}` : ''}`;
}

/**
 * The rows a row is compared with, at its own connections: oidc-provider's, the bare server's,
 * (for the large database) Tessera's small one, and the same server's row of the latency pass.
 */
function peers(rows: Row[], r: Row) {
  const find = (p: (x: Row) => boolean, connections = r.connections) => rows.find((x) => x.kase === r.kase && x.connections === connections && p(x));
  const latency = rows.find((x) => x.kase === r.kase && x.server === r.server && x.connections !== r.connections);
  return {
    base: find((x) => x.kind === 'oidc-provider'),
    bare: find((x) => x.kind === 'bare'),
    small: find((x) => x.kind === 'tessera' && !x.large && x.database === r.database),
    latency,
    latencyBare: latency ? find((x) => x.kind === 'bare', latency.connections) : undefined,
  };
}

/** The connections of the run's latency pass, if it had one. */
const latencyConnections = (run: Run, rows: Row[]) => rows.find((x) => x.connections !== run.connections)?.connections;

/** One line of the targets list for a Tessera row on the small database: met, missed, or reported. */
function verdict(run: Run, rows: Row[], r: Row): { line: string; missed: boolean } {
  const goal = run.targets[r.kase];
  const applies = goal !== undefined && (goal.database === undefined || goal.database === r.database);
  const { base, bare, latency, latencyBare } = peers(rows, r);
  const ratio = base ? r.result.reqPerSec / base.result.reqPerSec : undefined;
  const ofBare = bare ? r.result.reqPerSec / bare.result.reqPerSec : undefined;
  const problems = [...invalid(r), ...(latency ? invalid(latency).map((p) => `at ${latency.connections} connections: ${p}`) : [])];
  // The p99 goal is judged on the latency pass when there is one; both p99s are shown.
  const [p99Row, p99Bare] = latency ? [latency, latencyBare] : [r, bare];
  const parts = [
    `${fmt(r.result.reqPerSec)} req/s`,
    ...(ofBare !== undefined ? [`${pct(ofBare)} of bare`] : []),
    ratio === undefined ? 'no oidc-provider result to compare with' : `${fmt(ratio, 2)}× oidc-provider`,
    latency ? `p99 ${latency.result.p99} ms at ${latency.connections} connections (${r.result.p99} ms at ${r.connections})` : `p99 ${r.result.p99} ms`,
  ];
  if (applies) {
    if (goal.reqPerSec !== undefined && r.result.reqPerSec < goal.reqPerSec) problems.push(`${fmt(r.result.reqPerSec)} req/s < ${fmt(goal.reqPerSec)}`);
    if (goal.ratio !== undefined && (ratio === undefined || ratio < goal.ratio)) problems.push(ratio === undefined ? 'no oidc-provider result to compare with' : `req/s ratio ${fmt(ratio, 2)}× < ${goal.ratio}×`);
    if (goal.bare !== undefined && (ofBare === undefined || ofBare < goal.bare)) problems.push(ofBare === undefined ? 'no bare result to compare with' : `${pct(ofBare)} of bare < ${pct(goal.bare)}`);
    // The bare server's p99 in the same run says how much of a tail the machine itself adds.
    if (goal.p99 !== undefined && p99Row.result.p99 > goal.p99) {
      problems.push(`p99 ${p99Row.result.p99} ms > ${goal.p99} ms at ${p99Row.connections} connections${p99Bare ? ` (the bare server's p99 there: ${p99Bare.result.p99} ms)` : ''}`);
    }
  }
  const what = `${r.kase}, ${r.server}`;
  // A verdict on a noisy row, or against one, says so: it may not hold in a quiet run.
  const noisy = [r, base, bare, latency, latencyBare].filter((x): x is Row => x !== undefined && (x.otherCores ?? 0) > NOISE_CORES);
  const caveat = noisy.length ? ` ⚠ not conclusive, measured while the machine was busy (${noisy.map((x) => `${x.server} at ${x.connections} connections`).join('; ')}): run again` : '';
  if (problems.length) return { line: `- ❌ ${applies ? 'MISSED' : 'INVALID'} ${what}: ${problems.join('; ')}${caveat}`, missed: true };
  if (applies) return { line: `- ✅ met ${what}: ${parts.join(', ')} (target ${describeGoal(r.kase, goal, latency?.connections).slice(r.kase.length + 1)})${caveat}`, missed: false };
  return { line: `- ℹ️ reported ${what}: ${parts.join(', ')} (${goal ? `the target is for ${goal.database}` : 'no target'})${caveat}`, missed: false };
}

/** The large database's row against the small one's: within `largeGoal` of its req/s, or missed. */
function largeVerdict(run: Run, rows: Row[], r: Row): { line: string; missed: boolean } {
  const { small } = peers(rows, r);
  const what = `${r.kase}, ${r.server}`;
  const problems = invalid(r);
  if (!small) return { line: `- ❌ INVALID ${what}: no small-database row to compare with`, missed: true };
  if (invalid(small).length) problems.push(`the small-database row is invalid (${invalid(small).join('; ')})`);
  const change = r.result.reqPerSec / small.result.reqPerSec - 1;
  const said = `${fmt(r.result.reqPerSec)} req/s, ${signedPct(change)} against the small database's ${fmt(small.result.reqPerSec)}`;
  if (change < -run.largeGoal) problems.push(`${said}, more than ${pct(run.largeGoal)} lower`);
  if (problems.length) return { line: `- ❌ ${invalid(r).length || invalid(small).length ? 'INVALID' : 'MISSED'} ${what}: ${problems.join('; ')}`, missed: true };
  return { line: `- ✅ met ${what}: ${said} (target: within ${pct(run.largeGoal)})`, missed: false };
}

function table(run: Run, rows: Row[]): string[] {
  const lines = [
    '| case | server | connections | req/s | p50 ms | p99 ms | vs oidc-provider | vs bare | RSS MB after | access token |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const kase of run.cases) {
    // The throughput rows first, then the latency pass's.
    for (const r of rows.filter((x) => x.kase === kase).sort((a, b) => Number(a.connections !== run.connections) - Number(b.connections !== run.connections))) {
      const { base, bare } = peers(rows, r);
      const ratio = r.kind === 'oidc-provider' ? '1.00×' : base ? `${fmt(r.result.reqPerSec / base.result.reqPerSec, 2)}×` : 'n/a';
      const ofBare = bare ? pct(r.result.reqPerSec / bare.result.reqPerSec) : '—';
      const bad = (failures(r.result) ? ` ⚠ ${failures(r.result)} bad` : '') + (r.result.exhausted ? ' ⚠ ran out' : '') + ((r.otherCores ?? 0) > NOISE_CORES ? ' ⚠ noisy' : '');
      lines.push(`| ${kase} | ${r.server} | ${r.connections} | ${fmt(r.result.reqPerSec)}${bad} | ${r.result.p50} | ${r.result.p99} | ${ratio} | ${ofBare} | ${mb(r.rss)} | ${r.tokenFormat} |`);
    }
  }
  return lines;
}

function largeTable(run: Run, rows: Row[]): string[] {
  const large = rows.filter((r) => r.large);
  if (!large.length) return [];
  const lines = [
    '', `Large database (${run.largeSize}) against the small one (goal: req/s within ${pct(run.largeGoal)}):`, '',
    '| case | server | req/s small → large | difference | p99 ms small → large | RSS MB small → large |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
  ];
  for (const r of large) {
    const { small } = peers(rows, r);
    const diff = small ? signedPct(r.result.reqPerSec / small.result.reqPerSec - 1) : 'n/a';
    const s = (f: (x: Row) => string) => `${small ? f(small) : '?'} → ${f(r)}`;
    lines.push(`| ${r.kase} | ${r.server} | ${s((x) => fmt(x.result.reqPerSec))} | ${diff} | ${s((x) => String(x.result.p99))} | ${s((x) => mb(x.rss))} |`);
  }
  return lines;
}

export function report(run: Run, rows: Row[], errors: string[]): string {
  const lines = [
    `# Tessera benchmark, ${new Date().toISOString()}`,
    '',
    `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}; ${run.setting}.`,
    '',
    ...table(run, rows),
  ];
  const noisy = rows.filter((r) => (r.otherCores ?? 0) > NOISE_CORES);
  if (noisy.length) {
    lines.push('', '⚠ noisy: other processes used CPU during these cases, so their numbers are low and p99 high ' +
      '(for Tessera on PostgreSQL this includes the database server):');
    for (const r of noisy) lines.push(`- ${r.kase}, ${r.server}: ${fmt(r.otherCores!, 2)} of a core`);
  }
  const notes = run.notes.filter((n) => n.lines.length);
  if (notes.length) lines.push('', 'Set-up:', '', ...notes.map((n) => `- ${n.server}: ${n.lines.join('; ')}`));
  lines.push(...largeTable(run, rows));
  const goals = run.cases.map((k) => describeGoal(k, run.targets[k], latencyConnections(run, rows)));
  if (rows.some((r) => r.large)) goals.push(`on the large database, req/s within ${pct(run.largeGoal)} of the small one's`);
  lines.push('', `Targets (issue: ${goals.join('; ')}):`, '');
  let misses = 0;
  for (const r of rows.filter((x) => x.kind !== 'tessera' && invalid(x).length)) {
    misses++;
    lines.push(`- ❌ INVALID ${r.kase}, ${r.server}: ${invalid(r).join('; ')}; the ratios of this case mean little`);
  }
  for (const r of rows.filter((x) => x.kind === 'tessera' && x.connections === run.connections)) {
    const v = r.large ? largeVerdict(run, rows, r) : verdict(run, rows, r);
    if (v.missed) misses++;
    lines.push(v.line);
  }
  for (const e of errors) lines.push(`- ❌ ERROR ${e.split('\n')[0]}`);
  lines.push('', misses + errors.length ? `${misses} target(s) missed or row(s) invalid, ${errors.length} error(s).` : 'All targets met.');
  return lines.join('\n') + '\n';
}
