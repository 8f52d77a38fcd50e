/**
 * The bare limit: the work of Tessera's tenant-realm client-credentials token endpoint and of its
 * introspection, with node:http and node:crypto alone and everything in memory — the limit for one
 * Node core here, against which Tessera's rate is given as a percentage.
 *
 *   POST /auth/{tenant}/default/oauth2/token       form body `grant_type=client_credentials`, HTTP
 *     Basic of the one client checked against the HMAC-SHA256 of its secret (timing-safe); an ES256
 *     JWT (header typ at+jwt and kid; Tessera's claims) signed with a key object made at start-up;
 *     Tessera's body and headers (Cache-Control: no-store, Pragma: no-cache, nosniff, …).
 *   POST /auth/{tenant}/default/oauth2/introspect  the same client authentication; the presented
 *     token's header, ES256 signature (verified on every request), issuer, tenant, time and
 *     revocation (an empty set) checked; `{"active":true,…}` with Tessera's fields.
 *   GET /readyz                                    200 once listening.
 *
 * Env: BENCH_PORT, BENCH_TENANT_ID (a UUID), BENCH_CLIENT_ID, BENCH_CLIENT_SECRET (only its HMAC is
 * kept). Usage: node --import tsx bench/bare-server.ts
 */
import {
  createHmac, createSecretKey, generateKeyPairSync, randomBytes, randomUUID, sign, timingSafeEqual, verify, type KeyObject,
} from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}

const PORT = Number(env('BENCH_PORT'));
const TENANT_ID = env('BENCH_TENANT_ID');
const CLIENT_ID = env('BENCH_CLIENT_ID');
const BASE_URL = `http://localhost:${PORT}`;
const ISSUER = `${BASE_URL}/auth/${TENANT_ID}/default`;
const AUDIENCE = `http://demo.localhost:${PORT}`;
/** What Tessera gives a service principal with the default role (iam:observer). */
const SCOPE = 'introspect_tokens revoke_tokens monitors_read timeseries_query';
const TTL = 3599;
const SKEW = 30;
const BODY_LIMIT = 65536;
const PATHS = { token: `/auth/${TENANT_ID}/default/oauth2/token`, introspect: `/auth/${TENANT_ID}/default/oauth2/introspect` };

/** Made once: the secret-hashing key, the stored hash of the client's secret, the signing key pair. */
const hmacKey = createSecretKey(randomBytes(32));
const secretHash = createHmac('sha256', hmacKey).update(env('BENCH_CLIENT_SECRET')).digest();
const secretId = randomBytes(16).toString('base64url');
const keys: { privateKey: KeyObject; publicKey: KeyObject } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const KID = randomBytes(16).toString('base64url');
const HEADER = Buffer.from(JSON.stringify({ alg: 'ES256', typ: 'at+jwt', kid: KID })).toString('base64url');
const revoked = new Set<string>();

const HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  pragma: 'no-cache',
};

function answer(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...HEADERS, 'x-request-id': randomUUID(), 'content-length': Buffer.byteLength(text), ...extra });
  res.end(text);
}

const oauthError = (res: ServerResponse, status: number, error: string, description: string, extra?: Record<string, string>) =>
  answer(res, status, { error, error_description: description }, extra);

/** HTTP Basic of the one client: its id, and its secret's HMAC compared in constant time. */
function authenticated(header: string | undefined): boolean {
  if (header === undefined || !/^basic /i.test(header)) return false;
  const text = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0) return false;
  let [id, secret] = [text.slice(0, colon), text.slice(colon + 1)];
  if (/[%+]/.test(text)) {
    try {
      [id, secret] = [id, secret].map((s) => decodeURIComponent(s.replace(/\+/g, ' '))) as [string, string];
    } catch {
      return false;
    }
  }
  const presented = createHmac('sha256', hmacKey).update(secret).digest();
  return id === CLIENT_ID && timingSafeEqual(presented, secretHash);
}

function token(res: ServerResponse): void {
  const iat = Math.floor(Date.now() / 1000);
  const claims = {
    iss: ISSUER, sub: CLIENT_ID, aud: AUDIENCE, client_id: CLIENT_ID, scope: SCOPE,
    jti: `${secretId}.${randomUUID()}`, iat, exp: iat + TTL, tenant_id: TENANT_ID,
  };
  const input = `${HEADER}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  const signature = sign('sha256', Buffer.from(input), { key: keys.privateKey, dsaEncoding: 'ieee-p1363' });
  answer(res, 200, { access_token: `${input}.${signature.toString('base64url')}`, expires_in: TTL, scope: SCOPE, token_type: 'bearer' });
}

type Claims = { iss: string; sub: string; aud: string; client_id: string; scope: string; jti: string; iat: number; exp: number; tenant_id: string };

/** The claims of a live token of this realm, its signature verified; undefined for anything else. */
function live(jwt: string): Claims | undefined {
  const parts = jwt.split('.');
  if (parts.length !== 3 || parts[0] !== HEADER) return undefined; // the one header this server signs with: ES256, at+jwt, its kid
  const signature = Buffer.from(parts[2]!, 'base64url');
  const input = Buffer.from(`${parts[0]}.${parts[1]}`);
  if (signature.length !== 64 || !verify('sha256', input, { key: keys.publicKey, dsaEncoding: 'ieee-p1363' }, signature)) return undefined;
  let claims: Claims;
  try {
    claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Claims;
  } catch {
    return undefined;
  }
  const now = Date.now() / 1000;
  if (claims.iss !== ISSUER || claims.tenant_id !== TENANT_ID || claims.exp + SKEW <= now || claims.iat - SKEW > now) return undefined;
  return revoked.has(claims.jti) ? undefined : claims;
}

function introspect(res: ServerResponse, presented: string): void {
  const c = live(presented);
  if (!c) return answer(res, 200, { active: false });
  answer(res, 200, {
    active: true, scope: c.scope, client_id: c.client_id, sub: c.sub, aud: c.aud, iss: c.iss,
    exp: c.exp, iat: c.iat, jti: c.jti, token_type: 'Bearer', tenant_id: c.tenant_id,
  });
}

/** A form POST to one of the two endpoints, its body read and parsed. */
function handle(req: IncomingMessage, res: ServerResponse, body: string): void {
  if ((req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase() !== 'application/x-www-form-urlencoded') {
    return oauthError(res, 400, 'invalid_request', 'Send the parameters as application/x-www-form-urlencoded.');
  }
  const params = new URLSearchParams(body);
  const isToken = req.url === PATHS.token;
  if (isToken && params.get('grant_type') !== 'client_credentials') {
    return oauthError(res, 400, 'unsupported_grant_type', 'Only client_credentials is supported.');
  }
  if (!authenticated(req.headers.authorization)) {
    return oauthError(res, 401, 'invalid_client', 'Client authentication failed.', { 'www-authenticate': 'Basic realm="tessera", charset="UTF-8"' });
  }
  if (isToken) return token(res);
  const presented = params.get('token');
  if (!presented) return oauthError(res, 400, 'invalid_request', 'The token parameter is missing.');
  introspect(res, presented);
}

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/readyz') return answer(res, 200, { status: 'ok' });
  if (req.url !== PATHS.token && req.url !== PATHS.introspect) return answer(res, 404, { message: 'Not found' });
  if (req.method !== 'POST') return oauthError(res, 405, 'invalid_request', 'Use POST.', { allow: 'POST' });
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= BODY_LIMIT) chunks.push(chunk);
  });
  req.on('end', () => {
    if (size > BODY_LIMIT) return oauthError(res, 413, 'invalid_request', 'The request body is too large.');
    handle(req, res, Buffer.concat(chunks).toString('utf8'));
  });
});
// As Fastify's default: connections stay open 72 s between requests.
server.keepAliveTimeout = 72_000;
server.listen(PORT, '127.0.0.1', () => process.stdout.write('listening\n'));
process.once('SIGTERM', () => process.exit(0));
