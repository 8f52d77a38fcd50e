import { write, writeSync } from 'node:fs';

/** Tuning of a `LogSink`; the defaults are what Tessera runs with. */
export interface LogSinkOptions {
  /** Buffered lines are written once they reach this many bytes (about 230 access lines)… */
  maxBytes?: number;
  /** …or once the oldest has waited this long: the longest a line is held back. */
  maxDelayMs?: number;
  /** Held beyond this (the reader stopped reading), new lines are dropped and counted. */
  maxBufferedBytes?: number;
}

/** Live sinks, flushed synchronously when the process exits (one `exit` listener for all). */
const live = new Set<LogSink>();
let exitHook = false;

/** Writes every line still held by any sink, synchronously (at exit, and before the CLI prints to stdout itself). */
export function flushLogs(): void {
  for (const sink of live) sink.flushSync();
}

/** How long a full pipe (nobody reading) is waited out before the bytes pending for it are given up. */
const FULL_PIPE_PATIENCE_MS = 10_000;

const pause = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * Where log lines go: one file descriptor (stdout), written in batches. A line is written at once
 * when the sink has written nothing for `maxDelayMs`, so a quiet server's lines appear as they
 * happen, and so is a warning or error (with every line before it); under load, other lines
 * gather until `maxBytes` or `maxDelayMs`, so a busy server makes a few
 * dozen writes a second instead of one per handful of requests. Each write of a pipe costs the
 * writer a wake-up of the reader, which measured more than the access line itself (README,
 * Performance). Lines are kept whole and in order, partial writes and EAGAIN (a non-blocking pipe
 * that is full) are retried, and whatever is held at exit is written synchronously. A line can be
 * lost only if the process is killed (SIGKILL) within `maxDelayMs` of logging it.
 */
export class LogSink {
  private readonly maxBytes: number;
  private readonly maxDelayMs: number;
  private readonly maxBufferedBytes: number;
  /** Lines not yet handed to a write, and their length in UTF-16 units (bytes for the ASCII of log lines). */
  private held: string[] = [];
  private heldLength = 0;
  /** The bytes of the write in flight (and of the next one, after a partial write or EAGAIN). */
  private writing: Buffer | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastWriteAt = 0;
  private dropped = 0;
  /** A held line is a warning or worse: the held lines are written as soon as no write is in flight. */
  private urgent = false;
  /** After `end`: each line is written at once, synchronously (the last lines of a stopping server). */
  private direct = false;
  /** Waiting for the write in flight to finish (`drain`). */
  private drained: Array<() => void> = [];

  constructor(
    private readonly fd: number,
    options: LogSinkOptions = {},
  ) {
    this.maxBytes = options.maxBytes ?? 64 * 1024;
    this.maxDelayMs = options.maxDelayMs ?? 50;
    this.maxBufferedBytes = options.maxBufferedBytes ?? 16 * 1024 * 1024;
    live.add(this);
    if (!exitHook) {
      exitHook = true;
      process.once('exit', flushLogs);
    }
  }

  /** Takes one line (ending in a newline); never throws and never blocks. */
  write(line: string): boolean {
    if (this.direct) {
      this.writeAllSync(Buffer.from(line));
      return true;
    }
    if (this.heldLength + line.length > this.maxBufferedBytes) {
      this.dropped++;
      return false;
    }
    this.held.push(line);
    this.heldLength += line.length;
    // A warning or worse (pino's `{"level":40` and up) goes out with everything before it, unbatched.
    if (line.charCodeAt(9) >= 52 /* 4 */ && line.startsWith('{"level":')) this.urgent = true;
    if (this.writing !== undefined) return true; // the write in flight takes the rest when it completes
    if (this.urgent || this.heldLength >= this.maxBytes || Date.now() - this.lastWriteAt >= this.maxDelayMs) this.writeHeld();
    else this.scheduleWrite();
    return true;
  }

  /** pino's `flush`: `done` once every line taken so far is written. */
  flush(done?: (err?: Error) => void): void {
    void this.drain().then(() => done?.());
  }

  /**
   * At exit: writes the held lines synchronously. A write already in flight is left to the kernel
   * (writing its bytes again could double them), so a line may be lost only if the process exits
   * during that write.
   */
  flushSync(): void {
    this.clearTimer();
    if (this.heldLength > 0 || this.dropped > 0) this.writeAllSync(Buffer.from(this.takeHeld()));
  }

  /** For a stopping server: waits for the write in flight, writes what is held, and writes later lines at once. */
  async end(): Promise<void> {
    await this.drain();
    this.direct = true;
    live.delete(this);
  }

  /** Resolves once every line taken so far is written. */
  private async drain(): Promise<void> {
    this.clearTimer();
    // A finished write may start the next at once (held lines past maxBytes): wait for all of them.
    while (this.writing !== undefined) await new Promise<void>((resolve) => this.drained.push(resolve));
    this.flushSync();
  }

  /** Writes all of `bytes` synchronously, waiting out a full pipe (up to about ten seconds). */
  private writeAllSync(bytes: Buffer): void {
    let offset = 0;
    for (let waited = 0; offset < bytes.length && waited < FULL_PIPE_PATIENCE_MS; ) {
      try {
        offset += writeSync(this.fd, bytes, offset);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') return;
        pause(10);
        waited += 10;
      }
    }
  }

  /** Writes the held lines `maxDelayMs` after the last write (an unref'd timer: the exit hook writes what is left). */
  private scheduleWrite(): void {
    this.timer ??= setTimeout(() => this.writeHeld(), Math.max(0, this.lastWriteAt + this.maxDelayMs - Date.now())).unref();
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The held lines as one string (with a line for any dropped since the last write), emptied. */
  private takeHeld(): string {
    if (this.dropped > 0) {
      this.held.push(`{"level":40,"time":${Date.now()},"pid":${process.pid},"msg":"${this.dropped} log lines were dropped: the log's reader did not keep up"}\n`);
      this.dropped = 0;
    }
    const text = this.held.length === 1 ? this.held[0]! : this.held.join('');
    this.held = [];
    this.heldLength = 0;
    this.urgent = false;
    return text;
  }

  private writeHeld(): void {
    this.clearTimer();
    if (this.writing !== undefined || this.heldLength === 0) return;
    this.writeOut(Buffer.from(this.takeHeld()));
  }

  private writeOut(bytes: Buffer, fullSince?: number): void {
    this.writing = bytes;
    this.lastWriteAt = Date.now();
    write(this.fd, bytes, 0, bytes.length, null, (err, written) => {
      if (err) {
        const since = fullSince ?? Date.now();
        if (err.code === 'EAGAIN' && Date.now() - since < FULL_PIPE_PATIENCE_MS) {
          // A full non-blocking pipe: try the same bytes again shortly (a ref'd timer, so that a
          // stopping server waits for its last lines, for FULL_PIPE_PATIENCE_MS at most).
          setTimeout(() => this.writeOut(bytes, since), 10);
          return;
        }
        // Otherwise stdout is closed or broken, or nobody has read it for that long: these lines are lost.
      } else if (written < bytes.length) {
        this.writeOut(bytes.subarray(written));
        return;
      }
      this.writing = undefined;
      for (const resolve of this.drained.splice(0)) resolve();
      if (this.urgent || this.heldLength >= this.maxBytes) this.writeHeld();
      else if (this.heldLength > 0) this.scheduleWrite();
    });
  }
}
