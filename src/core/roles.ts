/** Tenant roles (the glossary's). The first four form a ladder; `iam:agent` stands apart. */
export const ROLES = ['iam:tenantAdmin', 'iam:configManager', 'iam:troubleshooter', 'iam:observer', 'iam:agent'] as const;
export type Role = (typeof ROLES)[number];

const LADDER: Record<Role, number> = {
  'iam:observer': 1,
  'iam:troubleshooter': 2,
  'iam:configManager': 3,
  'iam:tenantAdmin': 4,
  'iam:agent': 0,
};

export const isRole = (value: string): value is Role => (ROLES as readonly string[]).includes(value);

/** True when any of `held` is, or ranks above, `required` (agent matches only agent). */
export function hasRole(held: readonly string[], required: Role): boolean {
  if (required === 'iam:agent') return held.includes('iam:agent');
  return held.some((r) => isRole(r) && r !== 'iam:agent' && LADDER[r] >= LADDER[required]);
}

export const DEFAULT_SERVICE_ROLES: Role[] = ['iam:observer'];
export const DEFAULT_AGENT_ROLES: Role[] = ['iam:agent'];

/** Display names (seed §B9). */
export const ROLE_NAMES: Record<Role, string> = {
  'iam:tenantAdmin': 'Tenant Admin',
  'iam:configManager': 'Config Manager',
  'iam:troubleshooter': 'Troubleshooter',
  'iam:observer': 'Observer',
  'iam:agent': 'Agent',
};
