import { ConflictError } from '../types.ts';

/** Unique-key violations of either engine become ConflictError; anything else passes through. */
export async function conflictsAsError<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
      throw new ConflictError(`${what} already exists`, { cause: e });
    }
    throw e;
  }
}
