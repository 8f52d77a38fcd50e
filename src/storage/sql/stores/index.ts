import type { Stores } from '../../../core/stores.ts';
import type { GroupCommit } from '../group-commit.ts';
import type { Engine, Executor } from '../schema.ts';
import { SqlApiKeyStore } from './api-keys.ts';
import { SqlAppInstallationStore } from './app-installations.ts';
import { SqlAppStore } from './apps.ts';
import { SqlAuditStore } from './audit.ts';
import { SqlAuthorizationCodeStore } from './authorization-codes.ts';
import { SqlAuthorizationRequestStore } from './authorization-requests.ts';
import { SqlAuthorizationStore } from './authorizations.ts';
import { SqlChangeStore } from './changes.ts';
import { SqlIngestStore } from './ingest.ts';
import { SqlIntegrationClientStore } from './integration-clients.ts';
import { SqlMetricStore } from './metrics.ts';
import { SqlMonitorStore } from './monitors.ts';
import { SqlPrincipalStore } from './principals.ts';
import { SqlRefreshTokenStore } from './refresh-tokens.ts';
import { SqlRevocationStore } from './revocations.ts';
import { SqlSecretStore } from './secrets.ts';
import { SqlSessionStore } from './sessions.ts';
import { SqlSettingStore } from './settings.ts';
import { SqlSignInPlaceStore } from './sign-in-places.ts';
import { SqlSigningKeyStore } from './signing-keys.ts';
import { SqlTenantStore } from './tenants.ts';
import { SqlUserStore } from './users.ts';

/**
 * Every store over one executor: the root database, or a transaction so that all of them write
 * inside it. `group` (SQLite's root database) lets hot writes share commits.
 */
export function createStores(db: Executor, engine: Engine, group?: GroupCommit): Stores & { changes: SqlChangeStore } {
  return {
    tenants: new SqlTenantStore(db),
    users: new SqlUserStore(db),
    principals: new SqlPrincipalStore(db),
    secrets: new SqlSecretStore(db),
    signingKeys: new SqlSigningKeyStore(db),
    sessions: new SqlSessionStore(db),
    signInPlaces: new SqlSignInPlaceStore(db),
    audit: new SqlAuditStore(db),
    revocations: new SqlRevocationStore(db),
    changes: new SqlChangeStore(db, engine),
    monitors: new SqlMonitorStore(db),
    ingest: new SqlIngestStore(db),
    settings: new SqlSettingStore(db),
    apps: new SqlAppStore(db),
    integrationClients: new SqlIntegrationClientStore(db),
    authorizationRequests: new SqlAuthorizationRequestStore(db),
    authorizationCodes: new SqlAuthorizationCodeStore(db),
    authorizations: new SqlAuthorizationStore(db),
    refreshTokens: new SqlRefreshTokenStore(db, engine, group),
    apiKeys: new SqlApiKeyStore(db),
    metrics: new SqlMetricStore(db),
    appInstallations: new SqlAppInstallationStore(db),
  };
}
