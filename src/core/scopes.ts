import { hasRole, type Role } from './roles.ts';

/**
 * The scope catalogue is data: each scope names the least role that may hold or grant it, the
 * realm where it is offered and whether it is private (granted to approved clients only).
 * A JSON file given by `TESSERA_SCOPE_CATALOGUE` replaces the built-in one.
 */
export interface ScopeDefinition {
  name: string;
  description: string;
  /** The least role whose holder has (and may grant) the scope. */
  role: Role;
  realms: Array<'tenant' | 'site'>;
  private?: boolean;
}

export const BUILT_IN_SCOPES: ScopeDefinition[] = [
  { name: 'introspect_tokens', description: 'Introspect access tokens issued in the tenant', role: 'iam:observer', realms: ['tenant'] },
  { name: 'revoke_tokens', description: 'Revoke access tokens issued in the tenant', role: 'iam:observer', realms: ['tenant'] },
  { name: 'monitors_read', description: 'View monitors', role: 'iam:observer', realms: ['tenant', 'site'] },
  { name: 'monitors_write', description: 'Edit, delete and resolve monitors', role: 'iam:configManager', realms: ['tenant', 'site'] },
  { name: 'timeseries_query', description: 'Query timeseries data', role: 'iam:observer', realms: ['tenant', 'site'] },
  { name: 'data_ingest', description: 'Submit telemetry (metrics, logs, traces)', role: 'iam:agent', realms: ['tenant'] },
  { name: 'api_keys_write', description: 'Create an API key for data submission', role: 'iam:tenantAdmin', realms: ['site'], private: true },
];

export class ScopeCatalogue {
  private readonly byName: Map<string, ScopeDefinition>;
  private readonly tenantGrants = new Map<string, { names: readonly string[]; scope: string }>();

  constructor(readonly scopes: ScopeDefinition[] = BUILT_IN_SCOPES) {
    this.byName = new Map(scopes.map((s) => [s.name, s]));
  }

  get(name: string): ScopeDefinition | undefined {
    return this.byName.get(name);
  }

  /** Every tenant-realm scope that principals holding `roles` have, in catalogue order. */
  tenantScopesFor(roles: readonly string[]): readonly string[] {
    return this.tenantGrant(roles).names;
  }

  /**
   * `tenantScopesFor`, with the space-separated form a token carries; worked out once per set of
   * roles (there are few: roles are a closed list), since every token and introspection asks.
   */
  tenantGrant(roles: readonly string[]): { names: readonly string[]; scope: string } {
    const key = roles.join(' ');
    let grant = this.tenantGrants.get(key);
    if (grant === undefined) {
      const names = this.scopes.filter((s) => s.realms.includes('tenant') && hasRole(roles, s.role)).map((s) => s.name);
      grant = { names, scope: names.join(' ') };
      this.tenantGrants.set(key, grant);
    }
    return grant;
  }
}

/** Splits an RFC 6749 §3.3 scope string; undefined when it holds characters outside the grammar. */
export function parseScope(text: string): string[] | undefined {
  if (!/^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$/.test(text)) return undefined;
  return [...new Set(text.split(' '))];
}
