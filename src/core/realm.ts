import type { Config } from '../config.ts';
import type { Clock } from './clock.ts';
import { presentedCredentials, refuseClient, type ClientAuthLimits, type CredentialSource, type PresentedCredentials } from './client-auth.ts';
import type { CachedPrincipal, Directory } from './directory.ts';
import { andThen, type Eventually } from './eventually.ts';
import { InsufficientScope } from './errors.ts';
import { CLIENT_ID_PATTERN } from './ids.ts';
import type { ScopeCatalogue } from './scopes.ts';
import { isWellFormedSecret, type SecretHasher } from './secrets.ts';
import type { SigningKeys } from './signing-keys.ts';
import type { AccessTokenClaims } from './tokens/jwt.ts';
import type { RevocationService } from './revocation-service.ts';
import type { AccessTokenVerifier } from './tokens/verifier.ts';
import { realmUrls, UUID_PATTERN } from './urls.ts';
import type { PrincipalRecord, TenantRecord } from './stores.ts';

/** What the tenant-realm endpoints need; built once in main.ts. */
export interface RealmContext {
  config: Pick<Config, 'baseUrl' | 'tenantDomain' | 'tenantAccessTokenTtl' | 'clockSkew'>;
  clock: Clock;
  directory: Directory;
  hasher: SecretHasher;
  keys: SigningKeys;
  scopes: ScopeCatalogue;
  /** Token and revocation: failures per client id and per IP (RL-2). */
  limits: ClientAuthLimits;
  /** Introspection: authenticated callers per client, everything else per IP (see `forIntrospection`). */
  introspectionLimits: ClientAuthLimits;
  verifier: AccessTokenVerifier;
  revocations: RevocationService;
}

export interface AuthenticatedPrincipal {
  principal: PrincipalRecord;
  /** The secret that authenticated: every token minted with it names it as its grant. */
  secretId: string;
}

/**
 * The tenant a realm URL names, or undefined (unknown tenants get the unknown-client answer); a
 * promise only when the tenant must be loaded.
 */
export function findTenant(ctx: Pick<RealmContext, 'directory'>, tenantId: string): Eventually<TenantRecord | undefined> {
  if (!UUID_PATTERN.test(tenantId)) return undefined;
  const hit = ctx.directory.freshTenant(tenantId);
  return hit !== undefined ? hit.value : ctx.directory.tenant(tenantId);
}

/**
 * The same context with introspection's limits in place of the token endpoint's, for the
 * introspection routes (built once, at start-up).
 */
export function forIntrospection<C extends Pick<RealmContext, 'limits' | 'introspectionLimits'>>(ctx: C): C {
  return { ...ctx, limits: ctx.introspectionLimits };
}

/**
 * Client authentication of a principal at its tenant's realm: format and checksum first (no
 * lookup for garbage), then the cached principal, its registered method and a constant-time
 * comparison with each usable secret. Every failure looks the same (CA-1, MT-2) and counts against
 * the IP, and against the client id only when it is one Tessera could have minted (RL-2).
 */
export function authenticatePrincipal(
  ctx: RealmContext,
  tenant: TenantRecord | undefined,
  source: CredentialSource,
  ip: string,
): Eventually<AuthenticatedPrincipal> {
  ctx.limits.checkIp(ip);
  const creds = presentedCredentials(ctx.limits, source, ip);
  const wellFormed = CLIENT_ID_PATTERN.test(creds.clientId);
  const usedBasic = creds.method === 'client_secret_basic';
  if (!tenant || !wellFormed || !isWellFormedSecret('clientSecret', creds.secret)) {
    return refuseClient(ctx.limits, wellFormed ? creds.clientId : undefined, ip, usedBasic);
  }
  const hit = ctx.directory.freshPrincipal(creds.clientId);
  if (hit !== undefined) return checkSecret(ctx, tenant, creds, hit.value, ip);
  return ctx.directory.principal(creds.clientId).then((cached) => checkSecret(ctx, tenant, creds, cached, ip));
}

/** The rest of `authenticatePrincipal`, once the principal is at hand (or known not to exist). */
function checkSecret(ctx: RealmContext, tenant: TenantRecord, creds: PresentedCredentials, cached: CachedPrincipal | undefined, ip: string): AuthenticatedPrincipal {
  const usedBasic = creds.method === 'client_secret_basic';
  if (!cached || cached.principal.tenantId !== tenant.id || cached.principal.authType !== creds.method) {
    return refuseClient(ctx.limits, creds.clientId, ip, usedBasic);
  }
  const now = ctx.clock.now();
  const secret = cached.secrets.find(
    (s) => s.revokedAt === null && (s.expiresAt === null || s.expiresAt > now) && ctx.hasher.matches(creds.secret, s.hash),
  );
  if (!secret) return refuseClient(ctx.limits, creds.clientId, ip, usedBasic);
  ctx.limits.authenticated(creds.clientId);
  return { principal: cached.principal, secretId: secret.id };
}

/**
 * The caller of introspection or revocation: a bearer access token of this tenant, or a principal's
 * client credentials; either way it must hold `scope`. A bad bearer token is a failure of the IP.
 */
export function authenticateCaller(
  ctx: RealmContext,
  tenant: TenantRecord | undefined,
  source: CredentialSource,
  ip: string,
  scope: string,
): Eventually<{ clientId: string }> {
  const header = source.authorization;
  if (header !== undefined && /^bearer /i.test(header)) {
    ctx.limits.checkIp(ip);
    const token = header.slice(7).trim();
    const result = tenant ? ctx.verifier.verify(token, { issuer: realmUrls(ctx.config.baseUrl, ctx.config.tenantDomain, tenant).issuer }) : undefined;
    if (!result?.ok || result.claims.tenant_id !== tenant!.id) return refuseClient(ctx.limits, undefined, ip, false);
    ctx.limits.authenticated(result.claims.client_id);
    if (!result.claims.scope.split(' ').includes(scope)) throw new InsufficientScope(`The token lacks the ${scope} scope.`);
    return { clientId: result.claims.client_id };
  }
  return andThen(authenticatePrincipal(ctx, tenant, source, ip), ({ principal }) => {
    if (!ctx.scopes.tenantScopesFor(principal.roles).includes(scope)) {
      throw new InsufficientScope(`The principal lacks the ${scope} scope.`);
    }
    return { clientId: principal.clientId };
  });
}

/** Verifies a token presented for introspection or revocation within one tenant. */
export function verifyTenantToken(ctx: RealmContext, tenant: TenantRecord, token: string): AccessTokenClaims | undefined {
  const result = ctx.verifier.verify(token, { issuer: realmUrls(ctx.config.baseUrl, ctx.config.tenantDomain, tenant).issuer });
  return result.ok && result.claims.tenant_id === tenant.id ? result.claims : undefined;
}
