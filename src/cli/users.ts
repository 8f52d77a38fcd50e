import { Option, type Command } from 'commander';
import { notFound } from '../core/errors.ts';
import { USER_ROLES } from '../core/users.ts';
import type { CliKit } from './apps.ts';

type Flags = { json?: boolean };

/**
 * `tessera user create|one-time-password`: a tenant's people, for the site operator, who names
 * them by e-mail. Both print a generated one-time password once; `one-time-password` is how an
 * operator lets a member back in (the only tenant admin, say) whose one-time password was lost,
 * expired or spent without choosing a password: the console's "New one-time password", with the
 * same rules (the user's sessions end; an account with a password of its own is refused, 409).
 */
export function registerUserCommands(program: Command, { globalOptions, withTessera, print, actor }: CliKit): void {
  const user = program.command('user').description('users');
  globalOptions(
    user.command('create').description('add a user to a tenant').requiredOption('--tenant <name>').requiredOption('--email <email>')
      .addOption(new Option('--role <role>', 'tenant role').default('iam:observer').choices(USER_ROLES)),
  ).action(async (flags: Flags & { tenant: string; email: string; role: string }) =>
    withTessera(flags, async (t) => {
      const r = await t.tenants.createUser(flags.tenant, flags.email, flags.role, undefined, actor);
      print(flags, { userId: r.userId, email: r.email, role: flags.role, password: r.password ?? null }, `user ${r.email} (${r.userId})${r.password ? `, one-time password: ${r.password}` : ' (existing account, added to the tenant)'}`);
    }),
  );
  globalOptions(
    user.command('one-time-password').description('issue a new one-time password for a member who has not chosen their own; prints it once and ends their sessions')
      .requiredOption('--tenant <name>').requiredOption('--email <email>'),
  ).action(async (flags: Flags & { tenant: string; email: string }) =>
    withTessera(flags, async (t) => {
      const tenant = await t.tenants.findByName(flags.tenant);
      const member = await t.users.findByEmail(tenant.id, flags.email, actor);
      if (!member) throw notFound(`${flags.email.trim()} is not a member of tenant ${tenant.name}.`);
      const r = await t.users.resetOneTimePassword(tenant.id, member.userId, actor);
      const { expiresAt } = (await t.users.get(tenant.id, r.userId, actor)).oneTimePassword ?? { expiresAt: null };
      print(flags, { ...r, expiresAt }, `user ${r.email} (${r.userId}), one-time password: ${r.password}\n(shown only now; it works for one sign-in until ${expiresAt}, at which they choose their own; the previous one no longer works and their sessions have ended)`);
    }),
  );
}
