/**
 * The comparison server: oidc-provider 9 configured like Tessera's tenant realm (client
 * credentials with HTTP Basic, ES256 JWT access tokens that live 3599 s, introspection).
 *
 * oidc-provider refuses to introspect JWT access tokens, so a second client gets opaque tokens
 * from a second resource server; those live in the default in-memory adapter (its best case).
 *
 * Env: BENCH_PORT (required). Listens on 127.0.0.1 and prints `listening` when ready.
 */
import { createServer } from 'node:http';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { type Client } from 'oidc-provider';
import { OIDC_CLIENTS as CLIENTS } from './common.ts';

const RESOURCE = { jwt: 'https://api.bench.test/jwt', opaque: 'https://api.bench.test/opaque' } as const;
const SCOPE = 'introspect_tokens revoke_tokens';

async function main(): Promise<void> {
  const port = Number(process.env.BENCH_PORT);
  if (!Number.isInteger(port) || port <= 0) throw new Error('BENCH_PORT must be a port number');

  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const signingKey = { ...(await exportJWK(privateKey)), use: 'sig', alg: 'ES256', kid: 'bench-es256' };

  const client = (c: { id: string; secret: string }) => ({
    client_id: c.id,
    client_secret: c.secret,
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_basic',
    scope: SCOPE,
  });

  const provider = new Provider(`http://127.0.0.1:${port}`, {
    clients: [client(CLIENTS.jwt), client(CLIENTS.opaque)],
    jwks: { keys: [signingKey] },
    // The only key is ES256, so client metadata defaults must not ask for RS256.
    scopes: ['openid', ...SCOPE.split(' ')],
    clientDefaults: { id_token_signed_response_alg: 'ES256' },
    ttl: { ClientCredentials: 3599 },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true, allowedPolicy: async () => true },
      resourceIndicators: {
        enabled: true,
        defaultResource: async (_ctx: unknown, c: Client) => (c.clientId === CLIENTS.opaque.id ? RESOURCE.opaque : RESOURCE.jwt),
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx: unknown, resource: string) =>
          resource === RESOURCE.opaque
            ? { scope: SCOPE, accessTokenFormat: 'opaque', accessTokenTTL: 3599 }
            : { scope: SCOPE, accessTokenFormat: 'jwt', accessTokenTTL: 3599, jwt: { sign: { alg: 'ES256' } } },
      },
    },
  });

  // Report the first server error only; the orchestrator shows this output if something fails.
  let reported = false;
  provider.on('server_error', (_ctx, error) => {
    if (!reported) process.stderr.write(`oidc-provider server_error: ${error.stack ?? error.message}\n`);
    reported = true;
  });

  const server = createServer(provider.callback());
  server.listen(port, '127.0.0.1', () => process.stdout.write('listening\n'));
  process.once('SIGTERM', () => server.close(() => process.exit(0)));
}

await main();
