import { CompiledQuery } from 'kysely';
import type { Executor } from './schema.ts';

interface Unit {
  work: (db: Executor) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
}

const SAVEPOINT = CompiledQuery.raw('savepoint unit');
const RELEASE = CompiledQuery.raw('release unit');
const ROLLBACK = CompiledQuery.raw('rollback to unit');

/**
 * Group commit for SQLite's hot writes. A SQLite commit costs far more than the few statements
 * before it (every dirty page goes to the WAL), and one connection writes at a time anyway, so the
 * small write units that arrive within one turn of the event loop (each refresh-token rotation,
 * say) run one after another in one transaction and share its commit. Each unit runs inside a
 * savepoint: a unit that throws gets its own error with its writes undone, the others still
 * commit. No unit's promise settles before the commit that holds its writes, so an answer built
 * on a unit is never ahead of the database; a failed commit rejects every unit of the group.
 */
export class GroupCommit {
  private queue: Unit[] | undefined;

  constructor(private readonly db: Executor) {}

  run<T>(work: (db: Executor) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.queue === undefined) {
        this.queue = [];
        setImmediate(() => void this.flush());
      }
      this.queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
    });
  }

  private async flush(): Promise<void> {
    const units = this.queue ?? [];
    this.queue = undefined;
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    try {
      await this.db.transaction().execute(async (trx) => {
        for (const unit of units) {
          await trx.executeQuery(SAVEPOINT);
          try {
            outcomes.push({ ok: true, value: await unit.work(trx) });
            await trx.executeQuery(RELEASE);
          } catch (error) {
            outcomes.push({ ok: false, error });
            await trx.executeQuery(ROLLBACK);
            await trx.executeQuery(RELEASE);
          }
        }
      });
    } catch (error) {
      for (const unit of units) unit.reject(error);
      return;
    }
    units.forEach((unit, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) unit.resolve(outcome.value);
      else unit.reject(outcome.error);
    });
  }
}
