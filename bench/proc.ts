/** Child processes for the benchmark: pinned servers, one-shot commands, readiness polling. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';

export const ROOT = new URL('..', import.meta.url).pathname;

/** `taskset -c <core>` when this machine has taskset and at least two cores; else nothing. */
const canPin = cpus().length >= 2 && spawnSync('taskset', ['-c', '0', 'true']).status === 0;
export const pinningNote = canPin ? 'server on core 0, load generator on core 1 (taskset)' : 'NOT pinned (needs taskset and 2 cores)';
const pinned = (core: number, argv: string[]): string[] => (canPin ? ['taskset', '-c', String(core), ...argv] : argv);

/** A TCP port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Servers still running; killed if this process exits without stopping them. */
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export interface Server {
  /** The last 64 KiB of the server's stdout and stderr. */
  output(): string;
  stop(): Promise<void>;
}

/** Starts a long-running process pinned to `core`; its output is kept, not shown. */
export function startPinned(core: number, argv: string[], env: NodeJS.ProcessEnv): Server & { child: ChildProcess } {
  const [cmd, ...args] = pinned(core, argv);
  const child = spawn(cmd!, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-65536);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  live.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => live.delete(child));
  return {
    child,
    output: () => log,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Runs a command to completion (optionally pinned) and returns its stdout; throws with its output on failure. */
export function run(argv: string[], env: NodeJS.ProcessEnv = {}, core?: number): Promise<string> {
  const [cmd, ...args] = core === undefined ? argv : pinned(core, argv);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd!, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code === 0) resolve(out);
      else reject(new Error(`${argv.join(' ')} exited with ${code}:\n${err || out}`));
    });
  });
}

/** Polls `url` until it answers 200; fails when the server process exits or `timeoutMs` passes. */
export async function waitReady(url: string, server: Server & { child: ChildProcess }, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (server.child.exitCode !== null) throw new Error(`server exited (${server.child.exitCode}) before ${url} was ready:\n${server.output()}`);
    try {
      const res = await fetch(url);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms:\n${server.output()}`);
}

/** Linux reports CPU time in clock ticks of 1/100 s (USER_HZ). */
const TICK = 100;

/** CPU seconds spent so far by the whole machine (all cores, steal included); undefined without /proc. */
export function machineCpuSeconds(): number | undefined {
  try {
    const [user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    return (user! + nice! + system! + irq! + softirq! + (steal ?? 0)) / TICK;
  } catch {
    return undefined;
  }
}

/** CPU seconds spent so far by one process (all its threads); undefined without /proc. */
export function processCpuSeconds(pid: number | undefined): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields[0] is field 3 (state)
    return (Number(fields[11]) + Number(fields[12])) / TICK; // utime, stime
  } catch {
    return undefined;
  }
}

/**
 * Waits (at most `maxSeconds`) until the machine has used less than `cores` of CPU over a second,
 * so a case does not start while someone else's job runs. Returns false if it never went quiet.
 */
export async function waitQuiet(cores = 0.1, maxSeconds = 60): Promise<boolean> {
  for (let i = 0; i < maxSeconds; i++) {
    const before = machineCpuSeconds();
    await sleep(1000);
    const after = machineCpuSeconds();
    if (before === undefined || after === undefined || after - before < cores) return true;
  }
  return false;
}
