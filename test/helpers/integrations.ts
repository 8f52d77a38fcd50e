import { createHash, randomBytes } from 'node:crypto';
import { SYSTEM_ACTOR } from '../../src/core/events.ts';
import { newId } from '../../src/core/ids.ts';
import { generateSecret } from '../../src/core/secrets.ts';
import type { TestServer } from './server.ts';

/** A PKCE pair: a 43-character verifier and its S256 challenge. */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export interface IntegrationClient {
  appId: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  /** The partner tenant owning the app. */
  tenantId: string;
}

/** A Developer Platform app of `tenantId` with its test client (through the AppService, no HTTP). */
export async function createIntegrationClient(
  s: TestServer,
  tenantId: string,
  opts: { scopes?: string[]; redirectUri?: string; name?: string } = {},
): Promise<IntegrationClient> {
  const redirectUri = opts.redirectUri ?? 'https://partner.example/callback';
  const app = await s.tessera.apps.createApp(tenantId, { name: opts.name ?? 'Partner app' }, SYSTEM_ACTOR);
  const client = await s.tessera.apps.createClient(
    tenantId,
    app.appId,
    { name: opts.name ?? 'Partner', redirectUris: [redirectUri], onboardingUrl: 'https://partner.example/onboard', scopes: opts.scopes ?? ['monitors_read', 'monitors_write', 'timeseries_query'] },
    SYSTEM_ACTOR,
  );
  return { appId: app.appId, clientId: client.clientId, clientSecret: client.clientSecret, redirectUri, tenantId };
}

/** Publishes the app of a test client: a second client of the same app (new id and secret). */
export async function publishClient(s: TestServer, c: IntegrationClient): Promise<IntegrationClient> {
  const published = await s.tessera.apps.publish(c.tenantId, c.appId, SYSTEM_ACTOR);
  return { ...c, ...published };
}

export interface IssuedCode {
  code: string;
  verifier: string;
  authorizationId: string;
}

/**
 * What the consent POST writes, straight into the stores: an authorization of `userId` in
 * `tenantId` and a 10-minute code bound to the client, redirect URI and PKCE challenge, stored as
 * the realm's keyed hash.
 */
export async function issueCode(
  s: TestServer,
  client: IntegrationClient,
  opts: { tenantId: string; userId: string; scopes?: string[]; redirectUri?: string; pkce?: { verifier: string; challenge: string } },
): Promise<IssuedCode> {
  const { tessera } = s;
  const now = tessera.clock.now();
  const { verifier, challenge } = opts.pkce ?? pkcePair();
  const code = generateSecret('authorizationCode');
  const authorizationId = newId();
  const scopes = opts.scopes ?? ['monitors_read', 'monitors_write', 'timeseries_query'];
  await tessera.storage.transaction(async (tx) => {
    await tx.authorizations.insert({
      id: authorizationId, tenantId: opts.tenantId, userId: opts.userId, clientId: client.clientId, appId: client.appId, scopes,
      createdAt: now, updatedAt: now, revokedAt: null,
    });
    await tx.authorizationCodes.insert({
      hash: tessera.realm.hasher.hash(code), clientId: client.clientId, redirectUri: opts.redirectUri ?? client.redirectUri,
      userId: opts.userId, tenantId: opts.tenantId, scopes, codeChallenge: challenge, authorizationId,
      createdAt: now, expiresAt: now + 10 * 60 * 1000, usedAt: null,
    });
  });
  return { code, verifier, authorizationId };
}

/** The user id of an account, by e-mail. */
export async function userId(s: TestServer, email: string): Promise<string> {
  const user = await s.tessera.storage.users.findByEmail(email);
  if (!user) throw new Error(`no account ${email}`);
  return user.id;
}

/** A response as the tests compare it: status, headers, raw text and parsed JSON. */
export interface Wire {
  status: number;
  headers: Headers;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

export async function post(url: string, body: string, headers: Record<string, string> = {}): Promise<Wire> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: text ? JSON.parse(text) : undefined };
}

const basicOf = (c: Pick<IntegrationClient, 'clientId' | 'clientSecret'>) => ({ authorization: 'Basic ' + Buffer.from(`${c.clientId}:${c.clientSecret}`).toString('base64') });

/** The code exchange of RFC 6749 §4.1.3 with Basic authentication; `extra` adds or replaces parameters. */
export function exchange(base: string, c: IntegrationClient, issued: Pick<IssuedCode, 'code' | 'verifier'>, extra: Record<string, string> = {}): Promise<Wire> {
  const params = { grant_type: 'authorization_code', code: issued.code, redirect_uri: c.redirectUri, code_verifier: issued.verifier, ...extra };
  return post(`${base}/oauth2/v1/token`, new URLSearchParams(params).toString(), basicOf(c));
}

export function refresh(base: string, c: Pick<IntegrationClient, 'clientId' | 'clientSecret'>, refreshToken: string, extra: Record<string, string> = {}): Promise<Wire> {
  return post(`${base}/oauth2/v1/token`, new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, ...extra }).toString(), basicOf(c));
}

export function introspect(base: string, c: Pick<IntegrationClient, 'clientId' | 'clientSecret'>, token: string): Promise<Wire> {
  return post(`${base}/oauth2/v1/introspect`, new URLSearchParams({ token }).toString(), basicOf(c));
}

export function revoke(base: string, c: Pick<IntegrationClient, 'clientId' | 'clientSecret'>, token: string, extra: Record<string, string> = {}): Promise<Wire> {
  return post(`${base}/oauth2/v1/revoke`, new URLSearchParams({ token, ...extra }).toString(), basicOf(c));
}

/** The site's error body: RFC 6749 §5.2 plus the seed's envelope. */
export const siteError = (error: string, description: string) => ({ error, error_description: description, errors: [`${error} - ${description}`] });
