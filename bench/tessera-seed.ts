/**
 * Grows a fresh Tessera database (SQLite) to the large case (`--large`) before its server starts,
 * in a process of its own on the server's database and master key (the same TESSERA_*
 * environment). Not measured.
 *
 * - The first start's bootstrap (signing key, demo tenant), as the server would do it.
 * - LARGE.tenants tenants (`seed-0001`…), each with LARGE.principals / LARGE.tenants service
 *   principals (client_secret_basic, the default role) and one secret each, through Tessera's
 *   stores: the rows PrincipalService.create writes, without its audit event and change-log entry.
 * - LARGE.revocations revoked access tokens spread over those principals, with the rows that
 *   RevocationService.record writes when the revocation endpoint revokes a token: a `jti` row
 *   (`{secretId}.{uuid}`, the tenant, revoked between its issue and now, kept until the token's exp +
 *   clock skew) and a
 *   change-log entry `revocation` / `jti:{value}`. These go in INSERTs of ROWS_PER_INSERT rows
 *   (typed by Tessera's schema): one store call per row would take minutes. The tokens were issued
 *   at most ISSUED_WITHIN_S before the seeding, so every row stays within its horizon for most of
 *   an hour and the server loads all of them into memory at start-up (RevocationState).
 *
 * Transactions of BATCH rows. Prints one JSON line: counts, the rows live afterwards (read with
 * the query the server runs at start-up) and the seconds each step took.
 *
 * Usage: node --import tsx bench/tessera-seed.ts
 */
import { randomInt, randomUUID } from 'node:crypto';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { loadConfig } from '../src/config.ts';
import { newClientId, newId } from '../src/core/ids.ts';
import { DEFAULT_SERVICE_ROLES } from '../src/core/roles.ts';
import { generateSecret } from '../src/core/secrets.ts';
import { bootstrap, openTessera, type Tessera } from '../src/main.ts';
import type { Database } from '../src/storage/sql/schema.ts';
import type { Stores } from '../src/core/stores.ts';
import { LARGE, type SeedReport } from './common.ts';

const BATCH = 10_000;
/** Rows per INSERT statement of the revocations (5 parameters each, far below SQLite's limit). */
const ROWS_PER_INSERT = 500;
/** Seeded tokens were issued within this many seconds before the seeding (revoked ones stay within the horizon until their exp). */
const ISSUED_WITHIN_S = 600;

/** Runs `write(tx, i)` for i in [0, count), BATCH to a transaction. */
async function batched(t: Tessera, count: number, write: (tx: Stores, i: number) => Promise<void>): Promise<void> {
  for (let start = 0; start < count; start += BATCH) {
    await t.storage.transaction(async (tx) => {
      for (let i = start; i < Math.min(count, start + BATCH); i++) await write(tx, i);
    });
  }
}

/** Tenants and their principals; answers each principal's secret id and tenant, for the revocations. */
async function seedPrincipals(t: Tessera): Promise<Array<{ secretId: string; tenantId: string }>> {
  const now = t.clock.now();
  const tenantIds = Array.from({ length: LARGE.tenants }, () => randomUUID());
  await batched(t, LARGE.tenants, (tx, i) => tx.tenants.insert({ id: tenantIds[i]!, name: `seed-${String(i + 1).padStart(4, '0')}`, createdAt: now }));
  const grants: Array<{ secretId: string; tenantId: string }> = [];
  await batched(t, LARGE.principals, async (tx, i) => {
    const tenantId = tenantIds[i % LARGE.tenants]!;
    const clientId = newClientId('service');
    await tx.principals.insert({
      clientId, tenantId, type: 'service', displayName: `Seeded service ${i + 1}`, description: '', authType: 'client_secret_basic',
      roles: [...DEFAULT_SERVICE_ROLES], createdAt: now, updatedAt: now, deletedAt: null,
    });
    const secretId = newId();
    await tx.secrets.insert({ id: secretId, clientId, hash: t.realm.hasher.hash(generateSecret('clientSecret')), createdAt: now, expiresAt: null, revokedAt: null });
    grants.push({ secretId, tenantId });
  });
  return grants;
}

/** The revocation rows and change-log entries of revoked tokens of those principals, ordered by jti (the primary key grows at its end). */
function revocationRows(t: Tessera, grants: Array<{ secretId: string; tenantId: string }>) {
  const { tenantAccessTokenTtl: ttl, clockSkew } = t.config;
  const now = t.clock.now();
  const issuedFrom = Math.floor(now / 1000) - ISSUED_WITHIN_S;
  return Array.from({ length: LARGE.revocations }, (_, i) => {
    const { secretId, tenantId } = grants[i % grants.length]!;
    const iat = issuedFrom + randomInt(ISSUED_WITHIN_S);
    const revokedAt = iat * 1000 + randomInt(now - iat * 1000 + 1); // some time between its issue and now
    return { kind: 'jti', value: `${secretId}.${randomUUID()}`, tenant_id: tenantId, revoked_at: revokedAt, prune_after: (iat + ttl + clockSkew) * 1000 };
  }).sort((a, b) => (a.value < b.value ? -1 : 1));
}

/** Writes the revocations on a connection of its own to the server's SQLite file, ROWS_PER_INSERT rows to a statement. */
async function seedRevocations(t: Tessera, grants: Array<{ secretId: string; tenantId: string }>): Promise<void> {
  if (t.storage.engine !== 'sqlite') throw new Error('the large case runs on SQLite only');
  const rows = revocationRows(t, grants);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: new SQLite(t.config.databaseUrl.slice('sqlite:'.length)) }) });
  try {
    for (let start = 0; start < rows.length; start += BATCH) {
      await db.transaction().execute(async (trx) => {
        for (let i = start; i < Math.min(rows.length, start + BATCH); i += ROWS_PER_INSERT) {
          const chunk = rows.slice(i, Math.min(i + ROWS_PER_INSERT, start + BATCH));
          await trx.insertInto('revocations').values(chunk).execute();
          await trx.insertInto('changes').values(chunk.map((r) => ({ kind: 'revocation', key: `${r.kind}:${r.value}`, at: r.revoked_at }))).execute();
        }
      });
    }
  } finally {
    await db.destroy();
  }
}

async function main(): Promise<void> {
  const at = [performance.now()];
  const lap = () => at.push(performance.now());
  const seconds = (from: number, to: number) => Math.round((at[to]! - at[from]!) / 100) / 10;
  const t = await openTessera(loadConfig(process.env));
  try {
    await bootstrap(t);
    lap();
    const grants = await seedPrincipals(t);
    lap();
    await seedRevocations(t, grants);
    lap();
    const live = (await t.storage.revocations.listLive(t.clock.now())).length;
    lap();
    const report: SeedReport = { ...LARGE, live, seconds: { principals: seconds(1, 2), revocations: seconds(2, 3), live: seconds(3, 4), total: seconds(0, 4) } };
    process.stdout.write(JSON.stringify(report) + '\n');
  } finally {
    await t.close();
  }
}

await main();
