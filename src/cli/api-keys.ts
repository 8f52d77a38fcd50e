import type { Command } from 'commander';
import type { ApiKeyView } from '../core/api-keys.ts';
import type { CliKit } from './apps.ts';

type Flags = { json?: boolean };

const line = (k: ApiKeyView) =>
  [k.id, `…${k.last4}`, k.name, k.createdBy.name ?? k.createdBy.id, k.createdAt, k.lastUsedAt ?? 'never used', k.revokedAt ? `revoked ${k.revokedAt}` : 'live'].join('\t');

/**
 * `tessera apikey create|list|revoke`: a tenant's API keys, for the site operator. The key is
 * printed once, by `create`; lists show its last four characters only.
 */
export function registerApiKeyCommands(program: Command, { globalOptions, withTessera, print, actor }: CliKit): void {
  const apikey = program.command('apikey').description('API keys of a tenant (DD-API-KEY)');
  globalOptions(apikey.command('create').description('create an API key; prints it once').requiredOption('--tenant <name>').requiredOption('--name <name>')).action(
    async (flags: Flags & { tenant: string; name: string }) =>
      withTessera(flags, async (t) => {
        const tenant = await t.tenants.findByName(flags.tenant);
        const { record, key } = await t.apiKeys.create(tenant.id, flags.name, actor);
        print(flags, { id: record.id, key, name: record.name }, `API key ${record.name} (${record.id})\nKey: ${key}\n(the key is shown only now)`);
      }),
  );
  globalOptions(apikey.command('list').description('list a tenant\'s API keys, newest first').requiredOption('--tenant <name>').option('--search <text>', 'part of the name')).action(
    async (flags: Flags & { tenant: string; search?: string }) =>
      withTessera(flags, async (t) => {
        const tenant = await t.tenants.findByName(flags.tenant);
        const items: ApiKeyView[] = [];
        let cursor: string | undefined;
        do {
          const page = await t.apiKeys.list(tenant.id, { max: 100, cursor, search: flags.search });
          items.push(...page.items);
          cursor = page.next ?? undefined;
        } while (cursor);
        print(flags, items, items.map(line).join('\n'));
      }),
  );
  globalOptions(apikey.command('revoke <id>').description('revoke an API key at once').requiredOption('--tenant <name>')).action(
    async (id: string, flags: Flags & { tenant: string }) =>
      withTessera(flags, async (t) => {
        const tenant = await t.tenants.findByName(flags.tenant);
        const k = await t.apiKeys.revoke(tenant.id, id, actor);
        print(flags, { revoked: k.id, revokedAt: k.revokedAt }, `revoked ${k.name} (${k.id})`);
      }),
  );
}
