/**
 * Mints what Tessera's site-level cases load, straight through its own services and stores (as
 * test/helpers/integrations.ts does), in a process of its own on the server's database and master
 * key (the same TESSERA_* environment), while the server is idle between cases:
 *
 *   client                        an app of the demo tenant with its integration client (dpc_…,
 *                                 tcs_… secret, Basic), and a configManager user of the tenant;
 *                                 prints { clientId, clientSecret, appId, tenantId, userId }
 *   refresh_token <n> <file> <c>  n authorizations of that user, each with a refresh token, as the
 *                                 code exchange stores it; writes the tokens to <file> (JSON array)
 *   authorization_code <n> <file> <c>
 *                                 n authorizations, each with a 10-minute code bound to the redirect
 *                                 URI and a PKCE S256 challenge, as the consent POST stores it;
 *                                 writes [{ code, verifier }] to <file>
 *
 * <c> is the JSON `client` printed. Usage: node --import tsx bench/tessera-mint.ts <command> …
 */
import { writeFile } from 'node:fs/promises';
import { loadConfig } from '../src/config.ts';
import { CODE_TTL_MS } from '../src/core/endpoints/consent.ts';
import { SYSTEM_ACTOR } from '../src/core/events.ts';
import { newId } from '../src/core/ids.ts';
import { generateSecret } from '../src/core/secrets.ts';
import { openTessera, type Tessera } from '../src/main.ts';
import type { Stores } from '../src/core/stores.ts';
import { pkcePair, SITE_CLIENT, type MintedCode } from './common.ts';

export interface MintClient {
  clientId: string;
  clientSecret: string;
  appId: string;
  tenantId: string;
  userId: string;
}

const ACTOR = { ...SYSTEM_ACTOR, id: 'bench' };
const SCOPES = SITE_CLIENT.scope.split(' ');
/** Rows per transaction; PostgreSQL runs a few transactions at once. */
const BATCH = 500;

async function createClient(t: Tessera): Promise<MintClient> {
  const tenant = await t.tenants.findByName('demo');
  const app = await t.apps.createApp(tenant.id, { name: 'Bench app' }, ACTOR);
  const client = await t.apps.createClient(
    tenant.id,
    app.appId,
    { name: 'Bench', redirectUris: [SITE_CLIENT.redirectUri], onboardingUrl: 'https://partner.example/onboard', scopes: SCOPES },
    ACTOR,
  );
  const user = await t.tenants.createUser('demo', 'bench-user@example.com', 'iam:configManager', undefined, ACTOR);
  return { clientId: client.clientId, clientSecret: client.clientSecret, appId: app.appId, tenantId: tenant.id, userId: user.userId };
}

/** Inserts the authorization that consent records; answers its id. */
async function authorization(tx: Stores, c: MintClient, now: number): Promise<string> {
  const id = newId();
  await tx.authorizations.insert({ id, tenantId: c.tenantId, userId: c.userId, clientId: c.clientId, appId: c.appId, scopes: SCOPES, createdAt: now, updatedAt: now, revokedAt: null });
  return id;
}

async function refreshToken(t: Tessera, tx: Stores, c: MintClient): Promise<string> {
  const now = t.clock.now();
  const token = generateSecret('refreshToken');
  const authorizationId = await authorization(tx, c, now);
  await tx.refreshTokens.insert({ hash: t.realm.hasher.hash(token), authorizationId, clientId: c.clientId, createdAt: now, usedAt: null, successorHash: null, revokedAt: null });
  return token;
}

async function code(t: Tessera, tx: Stores, c: MintClient): Promise<MintedCode> {
  const now = t.clock.now();
  const { verifier, challenge } = pkcePair();
  const value = generateSecret('authorizationCode');
  const authorizationId = await authorization(tx, c, now);
  await tx.authorizationCodes.insert({
    hash: t.realm.hasher.hash(value), clientId: c.clientId, redirectUri: SITE_CLIENT.redirectUri, userId: c.userId, tenantId: c.tenantId,
    scopes: SCOPES, codeChallenge: challenge, authorizationId, createdAt: now, expiresAt: now + CODE_TTL_MS, usedAt: null,
  });
  return { code: value, verifier };
}

/** `count` of `one`, in transactions of BATCH, a few at once on PostgreSQL (SQLite has one writer). */
async function many<T>(t: Tessera, count: number, one: (tx: Stores) => Promise<T>): Promise<T[]> {
  const batches: number[] = [];
  for (let left = count; left > 0; left -= BATCH) batches.push(Math.min(BATCH, left));
  const out: T[][] = new Array(batches.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < batches.length; i = next++) {
      out[i] = await t.storage.transaction(async (tx) => {
        const rows: T[] = [];
        for (let j = 0; j < batches[i]!; j++) rows.push(await one(tx));
        return rows;
      });
    }
  };
  await Promise.all(Array.from({ length: t.storage.engine === 'postgres' ? 4 : 1 }, worker));
  return out.flat();
}

async function main(): Promise<void> {
  const [command, countArg, file, clientArg] = process.argv.slice(2);
  const t = await openTessera(loadConfig(process.env));
  try {
    if (command === 'client') {
      process.stdout.write(JSON.stringify(await createClient(t)) + '\n');
      return;
    }
    const count = Number(countArg);
    if ((command !== 'refresh_token' && command !== 'authorization_code') || !Number.isInteger(count) || count < 0 || !file || !clientArg) {
      throw new Error('usage: tessera-mint.ts client | refresh_token|authorization_code <count> <file> <client JSON>');
    }
    const c = JSON.parse(clientArg) as MintClient;
    const minted = command === 'refresh_token' ? await many(t, count, (tx) => refreshToken(t, tx, c)) : await many(t, count, (tx) => code(t, tx, c));
    await writeFile(file, JSON.stringify(minted));
  } finally {
    await t.close();
  }
}

await main();
