import { sql } from 'kysely';
import type { RefreshGrant, RefreshTokenRecord, RefreshTokenStore } from '../../../core/stores.ts';
import type { Engine, Executor, Row } from '../schema.ts';
import { toAuthorization } from './authorizations.ts';
import { ConflictError } from '../../../core/stores.ts';
import type { GroupCommit } from '../group-commit.ts';
import { prepared } from '../prepared.ts';
import { parseJson } from './common.ts';

const toRecord = (r: Row<'refresh_tokens'>): RefreshTokenRecord => ({
  hash: r.hash,
  authorizationId: r.authorization_id,
  clientId: r.client_id,
  createdAt: r.created_at,
  usedAt: r.used_at,
  successorHash: r.successor_hash,
  revokedAt: r.revoked_at,
});

export class SqlRefreshTokenStore implements RefreshTokenStore {
  constructor(
    private readonly db: Executor,
    private readonly engine: Engine,
    /** SQLite's root stores only: rotations outside a transaction share commits (group-commit.ts). */
    private readonly group?: GroupCommit,
  ) {}

  async insert(r: RefreshTokenRecord): Promise<void> {
    await insertToken(this.db, r);
  }

  async find(hash: string): Promise<RefreshTokenRecord | undefined> {
    const r = await this.db.selectFrom('refresh_tokens').selectAll().where('hash', '=', hash).executeTakeFirst();
    return r && toRecord(r);
  }

  async findGrant(hash: string): Promise<RefreshGrant | undefined> {
    const [r] = (await findGrant(this.db, hash)).rows;
    if (!r) return undefined;
    const authorization = toAuthorization({
      id: r.a_id, tenant_id: r.a_tenant_id, user_id: r.a_user_id, client_id: r.a_client_id, app_id: r.a_app_id,
      scopes: r.a_scopes, created_at: r.a_created_at, updated_at: r.a_updated_at, revoked_at: r.a_revoked_at,
    });
    const member = r.m_roles === null || r.u_id === null
      ? undefined
      : { roles: parseJson<string[]>(r.m_roles), disabled: r.m_disabled_at !== null || r.u_disabled_at !== null };
    return { token: toRecord(r), authorization, member };
  }

  /**
   * PostgreSQL: one statement (the update feeds the insert), so a rotation is one round trip and
   * atomic on its own; a concurrent rotation waits on the row and then finds used_at set.
   * SQLite: the update and the insert in the caller's transaction, or else as one unit of a group
   * commit with the other rotations of this turn of the event loop.
   */
  async rotate(hash: string, successor: RefreshTokenRecord): Promise<boolean> {
    const { hash: next, createdAt: at } = successor;
    if (this.engine === 'postgres') return ((await rotateInOneStatement(this.db, at, next, hash)).numAffectedRows ?? 0n) > 0n;
    const work = async (db: Executor): Promise<boolean> => {
      if (((await markUsed(db, at, next, hash)).numAffectedRows ?? 0n) === 0n) return false;
      await insertToken(db, successor);
      return true;
    };
    if (this.db.isTransaction) return work(this.db);
    return this.group ? this.group.run(work) : this.db.transaction().execute(work);
  }

  /** Tokens already revoked keep their first revocation time. */
  async revokeForAuthorizations(authorizationIds: string[], at: number): Promise<void> {
    if (authorizationIds.length === 0) return;
    await this.db.updateTable('refresh_tokens')
      .set({ revoked_at: at })
      .where('authorization_id', 'in', authorizationIds)
      .where('revoked_at', 'is', null)
      .execute();
  }
}

// The refresh grant's statements, compiled once (prepared.ts).

const findGrant = prepared((db: Executor, hash: string) => db.selectFrom('refresh_tokens as t')
  .innerJoin('authorizations as a', 'a.id', 't.authorization_id')
  .leftJoin('memberships as m', (j) => j.onRef('m.tenant_id', '=', 'a.tenant_id').onRef('m.user_id', '=', 'a.user_id'))
  .leftJoin('users as u', 'u.id', 'a.user_id')
  .selectAll('t')
  .select([
    'a.id as a_id', 'a.tenant_id as a_tenant_id', 'a.user_id as a_user_id', 'a.client_id as a_client_id', 'a.app_id as a_app_id',
    'a.scopes as a_scopes', 'a.created_at as a_created_at', 'a.updated_at as a_updated_at', 'a.revoked_at as a_revoked_at',
    'm.roles as m_roles', 'm.disabled_at as m_disabled_at', 'u.id as u_id', 'u.disabled_at as u_disabled_at',
  ])
  .where('t.hash', '=', hash));

/** One statement: of concurrent refreshes with one token only one finds used_at still null. */
const markUsed = prepared((db: Executor, at: number, successorHash: string, hash: string) => db.updateTable('refresh_tokens')
  .set({ used_at: at, successor_hash: successorHash })
  .where('hash', '=', hash)
  .where('used_at', 'is', null));

const insertRow = prepared((db: Executor, hash: string, authorizationId: string, clientId: string, createdAt: number, usedAt: number | null, successorHash: string | null, revokedAt: number | null) => db
  .insertInto('refresh_tokens')
  .values({ hash, authorization_id: authorizationId, client_id: clientId, created_at: createdAt, used_at: usedAt, successor_hash: successorHash, revoked_at: revokedAt })
  .onConflict((oc) => oc.doNothing()));

/** Inserts one token or throws `ConflictError` (ON CONFLICT DO NOTHING, as `insertUnique` does, so a PostgreSQL transaction survives it). */
async function insertToken(db: Executor, r: RefreshTokenRecord): Promise<void> {
  const inserted = await insertRow(db, r.hash, r.authorizationId, r.clientId, r.createdAt, r.usedAt, r.successorHash, r.revokedAt);
  if ((inserted.numAffectedRows ?? 0n) === 0n) throw new ConflictError('refresh token already exists');
}

const rotateInOneStatement = prepared((db: Executor, at: number, successorHash: string, hash: string) => db
  .with('used', (w) => w.updateTable('refresh_tokens')
    .set({ used_at: at, successor_hash: successorHash })
    .where('hash', '=', hash)
    .where('used_at', 'is', null)
    .returning(['authorization_id', 'client_id']))
  .insertInto('refresh_tokens')
  .columns(['hash', 'authorization_id', 'client_id', 'created_at', 'used_at', 'successor_hash', 'revoked_at'])
  .expression((eb) => eb.selectFrom('used').select([
    sql<string>`cast(${successorHash} as text)`.as('hash'), 'used.authorization_id', 'used.client_id', sql<number>`cast(${at} as bigint)`.as('created_at'),
    sql<null>`null`.as('used_at'), sql<null>`null`.as('successor_hash'), sql<null>`null`.as('revoked_at'),
  ])));
