import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';

const sinkModule = new URL('../../src/http/log-sink.ts', import.meta.url).href;

/** Runs `body` (ESM, with `LogSink` and `flushLogs` in scope) in a child whose stdout is a pipe; reading starts after `readAfterMs`. */
function child(body: string, readAfterMs = 0): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const code = `import { LogSink, flushLogs } from ${JSON.stringify(sinkModule)};\n${body}`;
  const proc = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.pause();
  setTimeout(() => {
    proc.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    proc.stdout.resume();
  }, readAfterMs);
  proc.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  return new Promise((resolve) => proc.once('close', (exit) => resolve({ code: exit, stdout, stderr })));
}

const numbered = (n: number, width = 0) => Array.from({ length: n }, (_, i) => `{"n":${i}${width ? `,"pad":"${'x'.repeat(width)}"` : ''}}\n`).join('');

describe('the log sink', () => {
  it('writes every line whole and in order, in batches, and a quiet line at once', async () => {
    // 20,000 lines (about 1.4 MB) in bursts, then one line after a pause: it must appear within
    // the delay although nothing follows it, while the process is still running.
    const { code, stdout, stderr } = await child(`
      const sink = new LogSink(1, { maxDelayMs: 20 });
      for (let burst = 0; burst < 20; burst++) {
        for (let i = 0; i < 1000; i++) sink.write('{"n":' + (burst * 1000 + i) + ',"pad":"${'x'.repeat(50)}"}\\n');
        await new Promise((r) => setTimeout(r, 1));
      }
      await new Promise((r) => setTimeout(r, 200));
      sink.write('{"quiet":true}\\n');
      await new Promise((r) => setTimeout(r, 200));
      process.stderr.write('still running\\n');
      await new Promise((r) => setTimeout(r, 100));
    `);
    assert.equal(code, 0, stderr);
    assert.equal(stdout, numbered(20_000, 50) + '{"quiet":true}\n');
    assert.equal(stderr, 'still running\n');
  });

  it('writes a warning or worse at once, with the lines held before it; a line held at SIGKILL is lost', async () => {
    const { code, stdout } = await child(`
      const sink = new LogSink(1, { maxDelayMs: 10_000 });
      sink.write('{"level":30,"n":0}\\n');
      await new Promise((r) => setTimeout(r, 50));
      sink.write('{"level":30,"n":1}\\n');
      sink.write('{"level":40,"n":2}\\n');
      await new Promise((r) => setTimeout(r, 200));
      sink.write('{"level":30,"n":3}\\n');
      process.kill(process.pid, 'SIGKILL');
    `);
    assert.equal(code, null);
    assert.equal(stdout, '{"level":30,"n":0}\n{"level":30,"n":1}\n{"level":40,"n":2}\n');
  });

  it('writes what it holds when the process exits, also by process.exit', async () => {
    // The first line goes out at once; the rest wait (for 10 s) and are written by the exit hook.
    const { code, stdout, stderr } = await child(`
      const sink = new LogSink(1, { maxDelayMs: 10_000 });
      for (let i = 0; i < 500; i++) sink.write('{"n":' + i + '}\\n');
      await new Promise((r) => setTimeout(r, 50));
      process.exit(3);
    `);
    assert.equal(code, 3, stderr);
    assert.equal(stdout, numbered(500));
  });

  it('waits out a full non-blocking pipe (EAGAIN) and partial writes, losing nothing', async () => {
    // process.stdout makes the pipe non-blocking; nobody reads it for 500 ms, so writes fill it (64 KiB) and fail with EAGAIN.
    const { code, stdout, stderr } = await child(`
      process.stdout.write('');
      const sink = new LogSink(1, { maxDelayMs: 5 });
      for (let i = 0; i < 30000; i++) {
        sink.write('{"n":' + i + ',"pad":"${'x'.repeat(50)}"}\\n');
        if (i % 3000 === 0) await new Promise((r) => setTimeout(r, 10));
      }
      await sink.end();
      sink.write('{"after":"end"}\\n');
    `, 500);
    assert.equal(code, 0, stderr);
    assert.equal(stdout, numbered(30_000, 50) + '{"after":"end"}\n');
  });

  it('drops lines beyond maxBufferedBytes while the reader lags, and says how many', async () => {
    // The first line goes out at once; while that write is in flight the next ten (10,000 bytes) are held and the rest dropped.
    const { code, stdout, stderr } = await child(`
      const sink = new LogSink(1, { maxBufferedBytes: 10_000 });
      const line = (i) => ('{"n":' + i + ',"pad":"').padEnd(997, 'x') + '"}\\n';
      for (let i = 0; i < 100; i++) sink.write(line(i));
      await sink.end();
    `);
    assert.equal(code, 0, stderr);
    const lines = stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(lines.slice(0, 11).map((l) => l.n), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.equal(lines.length, 12);
    const { time, pid, ...warning } = lines[11]!;
    assert.deepEqual([typeof time, typeof pid], ['number', 'number']);
    assert.deepEqual(warning, { level: 40, msg: '89 log lines were dropped: the log\'s reader did not keep up' });
  });
});
