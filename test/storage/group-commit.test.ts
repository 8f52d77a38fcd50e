import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { CompiledQuery, Kysely, SqliteDialect, sql } from 'kysely';
import { GroupCommit } from '../../src/storage/sql/group-commit.ts';
import type { Database, Executor } from '../../src/storage/sql/schema.ts';

/** Group commit on a real SQLite file, watched through a second connection (what another process would see). */
describe('SQLite group commit', () => {
  let dir: string;
  let db: Executor;
  let watcher: SQLite.Database;
  let group: GroupCommit;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tessera-group-'));
    const file = join(dir, 'g.db');
    const connection = new SQLite(file);
    connection.pragma('journal_mode = WAL');
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database: connection }) });
    await sql`create table t (k text primary key, v integer not null)`.execute(db);
    watcher = new SQLite(file, { readonly: true });
    group = new GroupCommit(db);
  });
  after(async () => {
    watcher.close();
    await db.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  const insert = (k: string, v: number) => (trx: Executor) => sql`insert into t (k, v) values (${k}, ${v})`.execute(trx).then(() => k);
  const seen = (k: string) => watcher.prepare('select v from t where k = ?').get(k) as { v: number } | undefined;
  const rows = () => (watcher.prepare('select count(*) as n from t').get() as { n: number }).n;

  it('units of one turn share one transaction: none is visible before the commit, all are when the first settles', async () => {
    const units = ['a', 'b', 'c'].map((k, i) => group.run(insert(k, i)));
    assert.equal(rows(), 0, 'nothing is written before the turn ends');
    assert.equal(await units[0], 'a');
    assert.deepEqual([seen('a'), seen('b'), seen('c')], [{ v: 0 }, { v: 1 }, { v: 2 }]);
    assert.deepEqual(await Promise.all(units), ['a', 'b', 'c']);
  });

  it('a unit that throws gets its own error and its writes are undone; the other units of its group commit', async () => {
    const failing = async (trx: Executor) => {
      await insert('doomed', 1)(trx);
      throw new Error('unit failed');
    };
    const [first, bad, last] = [group.run(insert('before', 1)), group.run(failing), group.run(insert('after', 2))];
    await assert.rejects(bad, /unit failed/);
    assert.deepEqual([await first, await last], ['before', 'after']);
    assert.deepEqual([seen('before'), seen('doomed'), seen('after')], [{ v: 1 }, undefined, { v: 2 }]);
  });

  it('a duplicate key in one unit fails that unit only', async () => {
    const [dup, ok] = [group.run(insert('a', 9)), group.run(insert('d', 4))];
    await assert.rejects(dup, /UNIQUE constraint failed/);
    assert.equal(await ok, 'd');
    assert.deepEqual([seen('a'), seen('d')], [{ v: 0 }, { v: 4 }]);
  });

  it('when the commit fails every unit of the group is rejected and none of their writes stays', async () => {
    // A unit that ends the transaction itself makes the group's commit fail.
    const sabotage = async (trx: Executor) => {
      await trx.executeQuery(CompiledQuery.raw('rollback'));
    };
    const units = [group.run(insert('x', 1)), group.run(sabotage), group.run(insert('y', 2))];
    const results = await Promise.allSettled(units);
    assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected', 'rejected']);
    assert.deepEqual([seen('x'), seen('y')], [undefined, undefined]);
    // The next group works again.
    assert.equal(await group.run(insert('z', 3)), 'z');
    assert.deepEqual(seen('z'), { v: 3 });
  });
});
