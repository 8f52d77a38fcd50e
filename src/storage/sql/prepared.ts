import type { Compilable, CompiledQuery, QueryResult } from 'kysely';
import type { Executor } from './schema.ts';

/** Stands for the i-th parameter while a prepared query is compiled; never a real value. */
const marker = (i: number) => `\u0000tessera-parameter-${i}\u0000`;

interface Plan {
  compiled: CompiledQuery;
  /** For each parameter of the compiled query: the index of the caller's argument, or -1 for a constant of the query. */
  slots: number[];
}

/**
 * A query of the token hot path, built with Kysely's builder (so it is type-checked against the
 * schema like every other query) but compiled only once per dialect: each run swaps the caller's
 * arguments into the compiled parameters and hands the SQL to the executor, skipping the builder
 * and the compiler (tens of microseconds a statement, several times what SQLite itself takes).
 *
 * `build` receives marker values in place of its arguments and must pass each one to the query
 * unchanged, as a value (not inside JSON, not as an identifier); preparing throws otherwise. Use
 * it for statements whose shape never depends on the arguments (no `in` lists, no optional
 * filters). The executor may be the root database or a transaction: both share one dialect.
 */
export function prepared<A extends unknown[], O>(build: (db: Executor, ...args: A) => Compilable<O>) {
  const arity = build.length - 1;
  const plans = new WeakMap<object, Plan>();
  const plan = (db: Executor): Plan => {
    const adapter = db.getExecutor().adapter;
    let p = plans.get(adapter);
    if (p === undefined) {
      const markers = Array.from({ length: arity }, (_, i) => marker(i));
      const compiled = build(db, ...(markers as A)).compile();
      const slots = compiled.parameters.map((v) => (typeof v === 'string' ? markers.indexOf(v) : -1));
      const missing = markers.findIndex((_, i) => !slots.includes(i));
      if (missing >= 0) throw new Error(`prepared query: argument ${missing} does not reach the SQL as a parameter: ${compiled.sql}`);
      p = { compiled, slots };
      plans.set(adapter, p);
    }
    return p;
  };
  return (db: Executor, ...args: A): Promise<QueryResult<O>> => {
    const { compiled, slots } = plan(db);
    const parameters = slots.map((slot, k) => (slot < 0 ? compiled.parameters[k] : args[slot]));
    return db.getExecutor().executeQuery<O>({ ...compiled, parameters });
  };
}
