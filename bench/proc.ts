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
  /** What the server has written to stdout and stderr so far (its log), in bytes and lines. */
  written(): { bytes: number; lines: number };
  stop(): Promise<void>;
}

/**
 * The tail of a stream: the chunks as they came, dropped from the front once the rest holds
 * `limit` bytes. A chunk costs a push and a count of its newlines, never a copy, so reading a
 * server's log as fast as it writes it costs this process little.
 */
class Tail {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  bytes = 0;
  lines = 0;

  constructor(private readonly limit = 65536) {}

  push(chunk: Buffer): void {
    this.bytes += chunk.length;
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) this.lines++;
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.chunks.length > 1 && this.size - this.chunks[0]!.length >= this.limit) this.size -= this.chunks.shift()!.length;
  }

  text(): string {
    return Buffer.concat(this.chunks).subarray(-this.limit).toString();
  }
}

/**
 * Starts a long-running process pinned to `core`. Its stdout and stderr are pipes read as fast as
 * it writes (a server that logs every request must never wait on a full pipe, nor have its log
 * piled up in this process): only the last 64 KiB are kept, for error reports.
 */
export function startPinned(core: number, argv: string[], env: NodeJS.ProcessEnv): Server & { child: ChildProcess } {
  const [cmd, ...args] = pinned(core, argv);
  const child = spawn(cmd!, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const tail = new Tail();
  const keep = (chunk: Buffer) => tail.push(chunk);
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  live.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => live.delete(child));
  return {
    child,
    output: () => tail.text(),
    written: () => ({ bytes: tail.bytes, lines: tail.lines }),
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

/** A process's resident memory (VmRSS) in bytes; undefined without /proc. */
export function processRssBytes(pid: number | undefined): number | undefined {
  try {
    const kb = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
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
