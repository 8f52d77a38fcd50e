/**
 * The comparison server: oidc-provider 9 configured like Tessera (client credentials with HTTP
 * Basic, ES256 JWT access tokens that live 3599 s, introspection; and for the site-level cases an
 * integration client with authorization_code + PKCE S256 and rotating refresh tokens, whose ES256
 * JWT access tokens live 3600 s).
 *
 * oidc-provider refuses to introspect JWT access tokens, so a second client gets opaque tokens
 * from a second resource server. Everything lives in oidc-provider's own in-memory adapter (its
 * best case), with the default's 1,000-entry bound lifted so the pre-minted codes are not evicted.
 *
 * A second listener, on BENCH_CONTROL_PORT, mints grants with refresh tokens or codes through
 * oidc-provider's models, between cases (never during one): `POST /mint?kind=refresh_token&count=N`
 * answers a JSON array of refresh tokens, `kind=authorization_code` one of { code, verifier }.
 *
 * Env: BENCH_PORT, BENCH_CONTROL_PORT (required). Listens on 127.0.0.1 and prints `listening` when ready.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { type Client } from 'oidc-provider';
import MemoryAdapter from 'oidc-provider/lib/adapters/memory_adapter.js';
import LRU from 'oidc-provider/lib/helpers/lru.js';
import { OIDC_CLIENTS as CLIENTS, pkcePair, SITE_CLIENT, type MintedCode } from './common.ts';

const RESOURCE = { jwt: 'https://api.bench.test/jwt', opaque: 'https://api.bench.test/opaque', site: 'https://api.bench.test/site' } as const;
const SCOPE = 'introspect_tokens revoke_tokens';
/** The user every minted grant belongs to (findAccount knows any id, as Tessera's user is always found). */
const ACCOUNT = 'bench-user';
const DAYS_14 = 14 * 24 * 3600;

function port(name: string): number {
  const n = Number(process.env[name]);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a port number`);
  return n;
}

function configuration(signingKey: Record<string, unknown>): Record<string, unknown> {
  const client = (c: { id: string; secret: string }) => ({
    client_id: c.id,
    client_secret: c.secret,
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_basic',
    scope: SCOPE,
  });
  const siteClient = {
    client_id: CLIENTS.site.id,
    client_secret: CLIENTS.site.secret,
    grant_types: ['authorization_code', 'refresh_token'],
    redirect_uris: [SITE_CLIENT.redirectUri],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  };
  // One unbounded store for all models: oidc-provider's MemoryAdapter over its LRU without the size limit.
  const store = new LRU({ maxSize: Infinity });
  return {
    adapter: (model: string) => new MemoryAdapter(model, store),
    clients: [client(CLIENTS.jwt), client(CLIENTS.opaque), siteClient],
    jwks: { keys: [signingKey] },
    // The only key is ES256, so client metadata defaults must not ask for RS256.
    scopes: ['openid', ...SCOPE.split(' ')],
    clientDefaults: { id_token_signed_response_alg: 'ES256' },
    // Codes live 10 minutes as Tessera's; the rest is long enough for any run.
    ttl: { ClientCredentials: 3599, AuthorizationCode: 600, Grant: DAYS_14, RefreshToken: DAYS_14 },
    // As Tessera: every refresh retires the token presented and issues a new one; a retired token
    // presented again revokes the grant. Every code exchange issues a refresh token.
    rotateRefreshToken: true,
    issueRefreshToken: async (_ctx: unknown, c: Client) => c.grantTypeAllowed('refresh_token'),
    findAccount: async (_ctx: unknown, sub: string) => ({ accountId: sub, claims: async () => ({ sub }) }),
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true, allowedPolicy: async () => true },
      resourceIndicators: {
        enabled: true,
        defaultResource: async (_ctx: unknown, c: Client) =>
          c.clientId === CLIENTS.opaque.id ? RESOURCE.opaque : c.clientId === CLIENTS.site.id ? RESOURCE.site : RESOURCE.jwt,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx: unknown, resource: string) => {
          if (resource === RESOURCE.opaque) return { scope: SCOPE, accessTokenFormat: 'opaque', accessTokenTTL: 3599 };
          if (resource === RESOURCE.site) return { scope: SITE_CLIENT.scope, accessTokenFormat: 'jwt', accessTokenTTL: 3600, jwt: { sign: { alg: 'ES256' } } };
          return { scope: SCOPE, accessTokenFormat: 'jwt', accessTokenTTL: 3599, jwt: { sign: { alg: 'ES256' } } };
        },
      },
    },
  };
}

/**
 * What the authorization endpoint stores at consent, straight through the models: a grant of the
 * site scopes on the site resource for ACCOUNT, then a code bound to the redirect URI and a PKCE
 * S256 challenge, or (as if that code had been exchanged) a refresh token. One grant each.
 */
async function mint(provider: Provider, kind: string, count: number): Promise<Array<string | MintedCode>> {
  const client = await provider.Client.find(CLIENTS.site.id);
  if (!client) throw new Error('the site client is missing');
  const common = { accountId: ACCOUNT, client, scope: SITE_CLIENT.scope, resource: RESOURCE.site, expiresWithSession: false };
  const out: Array<string | MintedCode> = [];
  for (let i = 0; i < count; i++) {
    const grant = new provider.Grant({ accountId: ACCOUNT, clientId: client.clientId });
    grant.addResourceScope(RESOURCE.site, SITE_CLIENT.scope);
    const grantId = await grant.save();
    if (kind === 'refresh_token') {
      out.push(await new provider.RefreshToken({ ...common, grantId, gty: 'authorization_code', rotations: 0 }).save());
    } else {
      const { verifier, challenge } = pkcePair();
      const code = await new provider.AuthorizationCode({ ...common, grantId, redirectUri: SITE_CLIENT.redirectUri, codeChallenge: challenge, codeChallengeMethod: 'S256' }).save();
      out.push({ code, verifier });
    }
  }
  return out;
}

function control(provider: Provider) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://control');
    const kind = url.searchParams.get('kind') ?? '';
    const count = Number(url.searchParams.get('count'));
    const answer = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.method !== 'POST' || url.pathname !== '/mint' || !['refresh_token', 'authorization_code'].includes(kind) || !Number.isInteger(count) || count < 0) {
      answer(400, { error: 'POST /mint?kind=refresh_token|authorization_code&count=N' });
      return;
    }
    mint(provider, kind, count).then((minted) => answer(200, minted), (e: Error) => answer(500, { error: e.stack ?? e.message }));
  };
}

async function main(): Promise<void> {
  const origin = `http://127.0.0.1:${port('BENCH_PORT')}`;
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const signingKey = { ...(await exportJWK(privateKey)), use: 'sig', alg: 'ES256', kid: 'bench-es256' };
  const provider = new Provider(origin, configuration(signingKey));

  // Report the first server error only; the orchestrator shows this output if something fails.
  let reported = false;
  provider.on('server_error', (_ctx, error) => {
    if (!reported) process.stderr.write(`oidc-provider server_error: ${error.stack ?? error.message}\n`);
    reported = true;
  });

  const server = createServer(provider.callback());
  const controller = createServer(control(provider));
  await Promise.all([
    new Promise<void>((resolve) => server.listen(port('BENCH_PORT'), '127.0.0.1', resolve)),
    new Promise<void>((resolve) => controller.listen(port('BENCH_CONTROL_PORT'), '127.0.0.1', resolve)),
  ]);
  process.stdout.write('listening\n');
  process.once('SIGTERM', () => {
    controller.close();
    server.close(() => process.exit(0));
  });
}

await main();
