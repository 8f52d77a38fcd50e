import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions, Level, Logger } from 'pino';

type Method = Level | 'silent';

/**
 * A request's logger, made on first use. Most requests log nothing but their access line, which
 * `AccessLog` writes itself, so the pino child that carries the request id (an object and a string
 * of serialized bindings per request) is built only for the few that do. Its level is the parent's:
 * a route with a level or serializers of its own gets a real child at once (`requestLogger`).
 */
class LazyRequestLogger {
  #child: Logger | undefined;

  constructor(
    private readonly parent: Logger,
    private readonly childBindings: Bindings,
  ) {}

  private get real(): Logger {
    return (this.#child ??= this.parent.child(this.childBindings));
  }

  private write(method: Method, args: unknown[]): void {
    if (method === 'silent' || !this.parent.isLevelEnabled(method)) return;
    Reflect.apply(this.real[method], this.real, args);
  }

  get level(): string {
    return this.parent.level;
  }

  isLevelEnabled(level: string): boolean {
    return this.parent.isLevelEnabled(level);
  }

  bindings(): Bindings {
    return this.#child ? this.#child.bindings() : { ...this.parent.bindings(), ...this.childBindings };
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): Logger {
    return this.real.child(bindings, options);
  }

  fatal(...args: unknown[]): void {
    this.write('fatal', args);
  }

  error(...args: unknown[]): void {
    this.write('error', args);
  }

  warn(...args: unknown[]): void {
    this.write('warn', args);
  }

  info(...args: unknown[]): void {
    this.write('info', args);
  }

  debug(...args: unknown[]): void {
    this.write('debug', args);
  }

  trace(...args: unknown[]): void {
    this.write('trace', args);
  }

  silent(): void {}
}

/** Fastify's `childLoggerFactory`: a lazy child unless the route sets its own level or serializers. */
export function requestLogger(logger: FastifyBaseLogger, bindings: Bindings, opts: ChildLoggerOptions): FastifyBaseLogger {
  const parent = logger as Logger;
  if (opts.level !== undefined || opts.serializers !== undefined) return parent.child(bindings, opts);
  return new LazyRequestLogger(parent, bindings) as unknown as FastifyBaseLogger;
}
