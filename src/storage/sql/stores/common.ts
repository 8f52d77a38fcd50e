import type { InsertQueryBuilder, InsertResult } from 'kysely';
import { ConflictError } from '../../../core/stores.ts';

/** Driver codes of a unique-key violation: PostgreSQL SQLSTATE, better-sqlite3 extended result codes. */
const UNIQUE_VIOLATION = new Set(['23505', 'SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_CONSTRAINT_PRIMARYKEY']);

export function isUniqueViolation(e: unknown): boolean {
  return typeof e === 'object' && e !== null && UNIQUE_VIOLATION.has(String((e as { code?: unknown }).code));
}

/**
 * Inserts one row or throws `ConflictError`. The insert carries ON CONFLICT DO NOTHING, so a clash
 * on any unique key adds no row instead of failing the statement: on PostgreSQL a failed statement
 * would abort the surrounding transaction, this way the caller may catch the conflict and go on.
 * A violation the driver still reports (e.g. one raised by a later migration's constraint) is
 * mapped the same way.
 */
export async function insertUnique<DB, TB extends keyof DB>(
  what: string,
  query: InsertQueryBuilder<DB, TB, InsertResult>,
): Promise<void> {
  let result: InsertResult;
  try {
    result = await query.onConflict((oc) => oc.doNothing()).executeTakeFirstOrThrow();
  } catch (e) {
    if (isUniqueViolation(e)) throw new ConflictError(`${what} already exists`, { cause: e });
    throw e;
  }
  if (result.numInsertedOrUpdatedRows === 0n) throw new ConflictError(`${what} already exists`);
}

export const parseJson = <T>(text: string): T => JSON.parse(text) as T;

export const toBoolean = (n: number): boolean => n !== 0;
export const fromBoolean = (b: boolean): number => (b ? 1 : 0);

/** A LIKE pattern matching `text` anywhere, with `\\`, `%` and `_` taken literally (use with ESCAPE '\\'). */
export const containsPattern = (text: string): string => `%${text.toLowerCase().replace(/[\\%_]/g, (c) => '\\' + c)}%`;
