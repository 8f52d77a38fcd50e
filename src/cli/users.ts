import { Option, type Command } from 'commander';
import { notFound } from '../core/errors.ts';
import { USER_ROLES } from '../core/users.ts';
import type { CliKit } from './apps.ts';

type Flags = { json?: boolean };

/**
 * `tessera user create|one-time-password`: a tenant's people, for the site operator, who names
 * them by e-mail. Both print a generated one-time password once, with the expiry stored in the
 * database with it (this command's TESSERA_ONE_TIME_PASSWORD_TTL from now; the server honours the
 * stored expiry whatever its own setting). `one-time-password` is how an operator lets a member
 * back in (the only tenant admin, say) whose one-time password was lost, expired or spent without
 * choosing a password: the console's "New one-time password", with the same rules (the user's
 * sessions end; an account with a password of its own is refused, 409).
 */
export function registerUserCommands(program: Command, { globalOptions, withTessera, print, actor }: CliKit): void {
  const user = program.command('user').description('users');
  globalOptions(
    user.command('create').description('add a user to a tenant').requiredOption('--tenant <name>').requiredOption('--email <email>')
      .addOption(new Option('--role <role>', 'tenant role').default('iam:observer').choices(USER_ROLES)),
  ).action(async (flags: Flags & { tenant: string; email: string; role: string }) =>
    withTessera(flags, async (t) => {
      const r = await t.tenants.createUser(flags.tenant, flags.email, flags.role, undefined, actor);
      const shown = r.password === undefined ? ' (existing account, added to the tenant)' : `, one-time password: ${r.password} (expires ${r.expiresAt})`;
      print(flags, { userId: r.userId, email: r.email, role: flags.role, password: r.password ?? null, expiresAt: r.expiresAt ?? null }, `user ${r.email} (${r.userId})${shown}`);
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
      print(flags, r, `user ${r.email} (${r.userId}), one-time password: ${r.password} (expires ${r.expiresAt})\n(shown only now; it works for one sign-in, at which they choose their own; the previous one no longer works and their sessions have ended)`);
    }),
  );
}
