import { readFileSync } from 'node:fs';
import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ROLES } from './roles.ts';
import { BUILT_IN_SCOPES, ScopeCatalogue } from './scopes.ts';

const ScopeFile = Type.Array(
  Type.Object(
    {
      name: Type.String({ pattern: '^[a-z0-9_:.-]{1,64}$' }),
      description: Type.String({ maxLength: 200 }),
      role: Type.Union(ROLES.map((r) => Type.Literal(r))),
      realms: Type.Array(Type.Union([Type.Literal('tenant'), Type.Literal('site')]), { minItems: 1 }),
      private: Type.Optional(Type.Boolean()),
    },
    { additionalProperties: false },
  ),
);

/**
 * The built-in catalogue, or the JSON file named by TESSERA_SCOPE_CATALOGUE (validated at start-up);
 * messages begin with `name`, the setting as it was given.
 */
export function loadScopeCatalogue(path: string, name = 'TESSERA_SCOPE_CATALOGUE'): ScopeCatalogue {
  if (!path) return new ScopeCatalogue(BUILT_IN_SCOPES);
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`${name}: cannot read ${path}: ${(e as Error).message}`);
  }
  const error = Value.Errors(ScopeFile, data).First();
  if (error) throw new Error(`${name}: ${error.path || '/'} ${error.message}`);
  return new ScopeCatalogue(data as ScopeCatalogue['scopes']);
}
