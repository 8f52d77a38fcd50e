import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { badRequest } from '../core/errors.ts';
import type { Actor } from '../core/events.ts';
import { parseScope } from '../core/scopes.ts';
import type { Tessera } from '../main.ts';

type Flags = { json?: boolean };

/** What the CLI's entry point lends the command groups registered here. */
export interface CliKit {
  globalOptions: (cmd: Command) => Command;
  withTessera: <T>(flags: Flags, fn: (t: Tessera) => Promise<T>) => Promise<T>;
  print: (flags: Flags, value: unknown, human: string) => void;
  actor: Actor;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** The JSON of a file the user named (`-`: stdin); one that cannot be read or parsed is bad input. */
function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (e) {
    throw badRequest((e as Error).message);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw badRequest(`${file}: not valid JSON (${(e as Error).message}).`);
  }
}

const secretLines = (c: { clientId: string; clientSecret: string }) => `Client ID: ${c.clientId}\nSecret:    ${c.clientSecret}`;

/**
 * The Developer Platform's commands, for the site operator: `app create|list|approve-scope|export|import`
 * and `client create|publish`. They act across tenants (the operator's view), name the tenant
 * where a new app goes, and print human text or, with --json, one JSON object.
 */
export function registerAppCommands(program: Command, { globalOptions, withTessera, print, actor }: CliKit): void {
  const app = program.command('app').description('Developer Platform apps');
  globalOptions(app.command('create').description('create an app owned by a tenant').requiredOption('--tenant <name>').requiredOption('--name <name>').option('--description <text>', 'description', '')).action(
    async (flags: Flags & { tenant: string; name: string; description: string }) =>
      withTessera(flags, async (t) => {
        const tenant = await t.tenants.findByName(flags.tenant);
        const a = await t.apps.createApp(tenant.id, { name: flags.name, description: flags.description }, actor);
        print(flags, { appId: a.appId }, `app ${a.name} (${a.appId}) in tenant ${tenant.name}`);
      }),
  );
  globalOptions(app.command('list').description('list a tenant\'s apps with their clients').requiredOption('--tenant <name>')).action(
    async (flags: Flags & { tenant: string }) =>
      withTessera(flags, async (t) => {
        const tenant = await t.tenants.findByName(flags.tenant);
        const apps = await Promise.all((await t.apps.listApps(tenant.id)).items.map(async (a) => ({
          ...a,
          clients: (await t.apps.listClients(tenant.id, a.appId)).items.map((c) => ({ clientId: c.clientId, kind: c.kind, name: c.name })),
        })));
        const human = apps.map((a) => [`${a.name}\t${a.appId}${a.stable ? '\tstable' : ''}`, ...a.clients.map((c) => `  ${c.kind}\t${c.clientId}\t${c.name}`)].join('\n'));
        print(flags, apps, human.length > 0 ? human.join('\n') : `no apps in tenant ${tenant.name}`);
      }),
  );
  globalOptions(app.command('approve-scope <appId> <scope>').description('let the app\'s clients request a private scope such as api_keys_write')).action(
    async (appId: string, scope: string, flags: Flags) =>
      withTessera(flags, async (t) => {
        const r = await t.apps.approveScope(appId, scope, actor);
        print(flags, r, `app ${r.appId} may request: ${r.approvedScopes.join(' ')}`);
      }),
  );
  globalOptions(app.command('export <appId>').description('print the App Manifest (no ids, no secrets)')).action(async (appId: string, flags: Flags) =>
    withTessera(flags, async (t) => {
      const manifest = await t.apps.exportManifest(await t.apps.appTenant(appId), appId);
      print(flags, manifest, JSON.stringify(manifest, null, 2));
    }),
  );
  globalOptions(
    app.command('import <file>').description('create an app from an App Manifest (a file, or - for stdin); prints the new client secrets once').requiredOption('--tenant <name>')
      .option('--approve-private-scopes', 'approve the private scopes the manifest requests for the new app'),
  ).action(async (file: string, flags: Flags & { tenant: string; approvePrivateScopes?: boolean }) => {
    const manifest = readJson(file);
    return withTessera(flags, async (t) => {
      const tenant = await t.tenants.findByName(flags.tenant);
      const r = await t.apps.importManifest(tenant.id, manifest, actor, { approvePrivateScopes: flags.approvePrivateScopes === true });
      print(flags, r, [`app ${r.appId} in tenant ${tenant.name}`, ...r.clients.map(secretLines), '(the secrets are shown only now)'].join('\n'));
    });
  });

  const client = program.command('client').description('integration clients of apps');
  globalOptions(
    client.command('create').description('create the app\'s test client; prints its secret once').requiredOption('--app <appId>').requiredOption('--name <name>')
      .option('--description <text>', 'description', '')
      .requiredOption('--redirect-uri <uri>', 'a redirect URI (repeat for several)', collect)
      .requiredOption('--onboarding-url <url>')
      .requiredOption('--scopes <scopes>', 'space-separated scopes, e.g. "monitors_read timeseries_query"'),
  ).action(async (flags: Flags & { app: string; name: string; description: string; redirectUri: string[]; onboardingUrl: string; scopes: string }) => {
    const scopes = parseScope(flags.scopes.trim());
    if (scopes === undefined) throw badRequest('--scopes: give scope names separated by single spaces.');
    return withTessera(flags, async (t) => {
      const input = { name: flags.name, description: flags.description, redirectUris: flags.redirectUri, onboardingUrl: flags.onboardingUrl, scopes };
      const c = await t.apps.createClient(await t.apps.appTenant(flags.app), flags.app, input, actor);
      print(flags, { clientId: c.clientId, clientSecret: c.clientSecret }, `${secretLines(c)}\n(the secret is shown only now)`);
    });
  });
  globalOptions(client.command('publish <clientId>').description('publish the test client of this client\'s app: a new published client; prints its secret once')).action(
    async (clientId: string, flags: Flags) =>
      withTessera(flags, async (t) => {
        const { tenantId, appId } = await t.apps.clientOwner(clientId);
        const c = await t.apps.publish(tenantId, appId, actor);
        print(flags, c, `Published client of app ${appId}:\n${secretLines(c)}\n(the secret is shown only now)`);
      }),
  );
}
