import { readFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { Command, Option } from 'commander';
import type { FastifyInstance } from 'fastify';
import { canonicalBaseUrl, ConfigError, describeConfig, resolveConfig, type Config, type ConfigKey } from '../config.ts';
import { BaseUrlMismatch, changeBaseUrl, recordedBaseUrl, sameBaseUrl } from '../core/base-url-check.ts';
import { MasterKeyMismatch } from '../core/master-key.ts';
import { SYSTEM_ACTOR, type Actor } from '../core/events.ts';
import { ProblemError, badRequest } from '../core/errors.ts';
import { SigningKeys } from '../core/signing-keys.ts';
import { ListenError, openTessera, startServer, type Tessera } from '../main.ts';
import { flushLogs } from '../http/log-sink.ts';
import { DatabaseUnavailable, openStorage } from '../storage/sql/open.ts';
import { registerAppCommands } from './apps.ts';
import { registerApiKeyCommands } from './api-keys.ts';
import { registerUserCommands } from './users.ts';
import type { PrincipalType } from '../core/stores.ts';

/** The operator acting through the CLI (recorded in the audit log). */
const CLI_ACTOR: Actor = { ...SYSTEM_ACTOR, id: 'cli' };

type Flags = { json?: boolean; port?: string; baseUrl?: string; databaseUrl?: string; dataDir?: string };

/** How the database URL was given (flag, variable or config file), for the error when it cannot be opened. */
let databaseUrlName = 'TESSERA_DATABASE_URL';

function resolveFrom(flags: Flags) {
  const over: Partial<Record<ConfigKey, unknown>> = {};
  if (flags.port !== undefined) over.port = flags.port;
  if (flags.baseUrl !== undefined) over.baseUrl = flags.baseUrl;
  if (flags.databaseUrl !== undefined) over.databaseUrl = flags.databaseUrl;
  if (flags.dataDir !== undefined) over.dataDir = flags.dataDir;
  const resolved = resolveConfig(process.env, over);
  databaseUrlName = resolved.name('databaseUrl');
  return resolved;
}

const configFrom = (flags: Flags) => resolveFrom(flags).config;

function print(flags: Flags, value: unknown, human: string): void {
  process.stdout.write(flags.json ? JSON.stringify(value) + '\n' : human + '\n');
}

/** Opens Tessera for one command, runs it and closes it again. */
async function withOpened<T>(config: Config, options: { recordedBaseUrl?: boolean }, fn: (t: Tessera) => Promise<T>): Promise<T> {
  const t = await openTessera(config, options);
  try {
    return await fn(t);
  } finally {
    await t.close();
  }
}

/**
 * Runs one command. URLs it prints use the base URL the servers of its database run at (recorded
 * in the database), unless this command was given one (a base URL or a port, by flag,
 * environment or config file): then it warns on stderr when the two differ.
 */
async function withTessera<T>(flags: Flags, fn: (t: Tessera) => Promise<T>): Promise<T> {
  const { config, given } = resolveFrom(flags);
  return withOpened(config, { recordedBaseUrl: !given.has('baseUrl') && !given.has('port') }, async (t) => {
    const recorded = await recordedBaseUrl(t.storage.settings);
    if (recorded !== undefined && !sameBaseUrl(recorded, t.config.baseUrl)) {
      warn(
        'base_url_differs',
        `the URLs this command prints use its own base URL ${t.config.baseUrl}, but this database's servers run at ${recorded}; ` +
          'leave out --base-url and --port (and TESSERA_BASE_URL, TESSERA_PORT) to print theirs',
      );
    }
    return fn(t);
  });
}

/**
 * With --json a failure is one JSON line on stderr, `{"error":"<code>","message":"<text>"}`, for
 * scripts; the exit status is the same as without (3 for not found, else 1). The codes are the
 * management API's problem titles in snake_case (`bad_request`, `forbidden`, `not_found`,
 * `conflict`); commander's usage errors (unknown option, missing argument, bad choice) are
 * `bad_request` too; and `invalid_config` (also another master key or base URL than the
 * deployment's), `address_in_use`, `address_not_available`, `database_unavailable`, `internal_error`. A warning is a JSON
 * line too, `{"warning":"<code>","message":"<text>"}` (`base_url_differs`; `runtime` for one of
 * Node.js or a library, such as the PostgreSQL driver's), so that stderr holds only JSON. Whether
 * --json was given is read from the arguments (before any `--`) until commander has parsed them,
 * so that its own errors are JSON too, and from the command's parsed options after that.
 */
function jsonAsked(args: string[]): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).includes('--json');
}
let jsonErrors = jsonAsked(process.argv.slice(2));

/** A failure as scripts read it (`code`) and as a person does (`message`, the text printed without --json). */
function failure(err: unknown): { code: string; message: string } {
  if (err instanceof ProblemError) return { code: err.title.toLowerCase().replace(/ /g, '_'), message: err.detail };
  if (err instanceof ConfigError) return { code: 'invalid_config', message: err.message };
  // This node's master key or base URL is not the deployment's: a configuration to correct.
  if (err instanceof MasterKeyMismatch || err instanceof BaseUrlMismatch) return { code: 'invalid_config', message: err.message };
  if (err instanceof DatabaseUnavailable) return { code: 'database_unavailable', message: `${databaseUrlName}: the database cannot be opened: ${err.reason}` };
  if (err instanceof ListenError) {
    if (err.code === 'EADDRINUSE') {
      return { code: 'address_in_use', message: `${err.message}: another server runs there; stop it or choose another port (--port N or TESSERA_PORT)` };
    }
    // TESSERA_HOST is well-formed (the config checks that) but names no address to listen on here.
    const problem = err.code === 'EADDRNOTAVAIL' ? 'is not an address of this machine'
      : err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN' ? 'does not resolve to an address' : undefined;
    if (problem !== undefined) {
      return { code: 'address_not_available', message: `${err.message}: TESSERA_HOST ${err.host} ${problem}; give one of this machine's addresses, or 0.0.0.0 (or ::) to listen on all of them` };
    }
  }
  return { code: 'internal_error', message: err instanceof Error ? err.message : String(err) };
}

const errorLine = (code: string, message: string) => `${JSON.stringify({ error: code, message })}\n`;

/** A warning on stderr: a JSON line with --json, else text. */
function warn(code: string, message: string): void {
  process.stderr.write(jsonErrors ? `${JSON.stringify({ warning: code, message })}\n` : `tessera: warning: ${message}\n`);
}

// Node prints warnings of its own and of libraries (the PostgreSQL driver's about sslmode) as text;
// the CLI prints them as its own, so that with --json stderr holds only JSON. NODE_NO_WARNINGS=1 and
// --no-warnings, which leave Node without its printer (`onWarning`), keep them silent.
for (const listener of process.listeners('warning')) {
  if (listener.name !== 'onWarning') continue;
  process.removeListener('warning', listener);
  process.on('warning', (w) => {
    if (!(w.name === 'DeprecationWarning' && process.noDeprecation)) warn('runtime', w.message);
  });
}

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
// Subcommands copy these output settings when they are created, so they are set here, first.
const program = new Command('tessera').description('Tessera: OAuth 2.0 authorization server for multi-tenant SaaS APIs').version(version)
  .showHelpAfterError(!jsonErrors)
  .configureOutput({ outputError: (text, write) => write(jsonErrors ? errorLine('bad_request', text.replace(/^error: /, '').trim().replace(/\n+/g, ' ')) : text) })
  .hook('preAction', (_program, command) => {
    jsonErrors = command.opts().json === true;
  })
  .addHelpText('after', '\nCommands that open the database take --json, --database-url, --data-dir and --base-url (over TESSERA_* variables);\n`tessera <command> --help` lists a command\'s options, `tessera config` every configuration key.');
const databaseOptions = (cmd: Command) =>
  cmd
    .option('--json', 'print JSON')
    .option('--database-url <url>', 'sqlite:<file> or postgres://… (TESSERA_DATABASE_URL)')
    .option('--data-dir <dir>', 'directory of master.key and the default SQLite file (TESSERA_DATA_DIR)');
const globalOptions = (cmd: Command) => databaseOptions(cmd).option('--base-url <url>', 'public base URL for the URLs printed (TESSERA_BASE_URL)');

/** Seconds a draining server gives handlers beyond TESSERA_REQUEST_TIMEOUT before closing connections. */
const DRAIN_GRACE_SECONDS = 5;
/** A stop signal this soon after the first is the same one delivered twice, not a second request. */
const REPEAT_SIGNAL_MS = 1000;

globalOptions(program.command('start').description('run the server').option('--port <port>', 'TESSERA_PORT')).action(async (flags: Flags) => {
  const config = configFrom(flags);
  // The signal handlers come before the server listens: an orchestrator may stop a node the moment
  // it answers /readyz, while the start is still finishing (the demo tenant, this log line). A stop
  // requested then waits for the start and drains like any other.
  let app: FastifyInstance | undefined;
  let requested: NodeJS.Signals | undefined;
  const stop = async (signal: string, a: FastifyInstance) => {
    a.log.info({ signal, stopAtOnce: 'send the signal again a second or more from now' }, 'draining and shutting down');
    // Node stops enforcing request timeouts once the server closes, so a client trickling its body
    // could hold the drain open for ever: after TESSERA_REQUEST_TIMEOUT plus a few seconds for
    // handlers, whatever is still open is closed.
    const drainMs = (config.requestTimeout + DRAIN_GRACE_SECONDS) * 1000;
    setTimeout(() => {
      a.log.warn({ afterMs: drainMs }, 'closing connections still open after draining');
      a.server.closeAllConnections();
    }, drainMs).unref();
    await a.close();
    process.exit(0);
  };
  // Ctrl-C on `npm start` signals the whole process group, and npm forwards its own copy a moment
  // later: a repeat within REPEAT_SIGNAL_MS is the same request to stop. A later one means "now".
  let stoppingSince: number | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stoppingSince === undefined) {
      stoppingSince = performance.now();
      if (app) void stop(signal, app);
      else requested = signal;
    } else if (performance.now() - stoppingSince >= REPEAT_SIGNAL_MS) {
      app?.log.warn({ signal }, 'second signal: stopping without draining');
      flushLogs();
      process.exit(128 + (osConstants.signals[signal] ?? 0));
    }
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  const started = await startServer(config);
  app = started.app;
  const { demo } = started;
  if (demo) {
    flushLogs(); // the log lines of the start come first
    process.stdout.write(
      `\nDemo tenant "demo" created. Sign in at ${config.baseUrl}/login as ${demo.adminEmail}\n` +
        `with this one-time password (shown once; valid for one sign-in until ${demo.adminPasswordExpiresAt}; you will choose your own): ${demo.adminPassword}\n\n`,
    );
  }
  app.log.info({ url: config.baseUrl, site: config.site }, 'Tessera is listening');
  if (requested) void stop(requested, app);
});

globalOptions(program.command('migrate').description('apply database migrations')).action(async (flags: Flags) => {
  const storage = await openStorage(configFrom(flags).databaseUrl);
  try {
    const applied = await storage.migrate();
    print(flags, { applied }, applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
  } finally {
    await storage.close();
  }
});

const tenant = program.command('tenant').description('tenants');
globalOptions(tenant.command('create <name>').description('create a tenant and its first tenant admin').requiredOption('--admin-email <email>', 'e-mail of the first tenant admin')).action(
  async (name: string, flags: Flags & { adminEmail: string }) =>
    withTessera(flags, async (t) => {
      const r = await t.tenants.create(name, flags.adminEmail, CLI_ACTOR);
      // DESIGN's shape, and when the one-time password stops working (null with it).
      const out = { tenantId: r.tenantId, name: r.name, host: r.host, adminEmail: r.adminEmail, adminPassword: r.adminPassword, adminPasswordExpiresAt: r.adminPasswordExpiresAt };
      const admin = r.adminPassword === null ? `admin ${r.adminEmail} (existing account, added as tenant admin; it keeps its password)` : `admin ${r.adminEmail}, one-time password: ${r.adminPassword} (expires ${r.adminPasswordExpiresAt})`;
      print(flags, out, `tenant ${r.name} (${r.tenantId}) at ${r.vanityUrl}\n${admin}`);
    }),
);
globalOptions(tenant.command('list').description('list tenants')).action(async (flags: Flags) =>
  withTessera(flags, async (t) => {
    const views = (await t.tenants.list()).map((x) => t.tenants.view(x));
    print(flags, views, views.length === 0 ? 'no tenants' : views.map((v) => `${v.name}\t${v.tenantId}\t${v.vanityUrl}`).join('\n'));
  }),
);

registerUserCommands(program, { globalOptions, withTessera, print, actor: CLI_ACTOR });

const principal = program.command('principal').description('service and agent principals');
const typeOption = () => new Option('--type <type>', 'service or agent').choices(['service', 'agent']).default('service');
globalOptions(
  principal.command('create').description('create a principal; prints its secret once').requiredOption('--tenant <name>').requiredOption('--name <displayName>')
    .addOption(typeOption()).option('--description <text>', 'description', '')
    .addOption(new Option('--auth-type <method>').choices(['client_secret_basic', 'client_secret_post']).default('client_secret_basic'))
    .option('--role <role...>', 'roles (service principals; default iam:observer)'),
).action(async (flags: Flags & { tenant: string; name: string; type: PrincipalType; description: string; authType: 'client_secret_basic' | 'client_secret_post'; role?: string[] }) =>
  withTessera(flags, async (t) => {
    const ten = await t.tenants.findByName(flags.tenant);
    const r = await t.principals.create(ten.id, flags.type, { displayName: flags.name, description: flags.description, authType: flags.authType, ...(flags.role ? { roles: flags.role } : {}) }, CLI_ACTOR);
    print(flags, { clientId: r.id, clientSecret: r.clientSecret, tenantId: r.tenantId, tokenUrl: r.tokenUrl }, `Client ID: ${r.id}\nSecret:    ${r.clientSecret}\nTenant ID: ${r.tenantId}\nToken URL: ${r.tokenUrl}\n(the secret is shown only now)`);
  }),
);
globalOptions(principal.command('list').description('list principals').requiredOption('--tenant <name>').addOption(typeOption())).action(
  async (flags: Flags & { tenant: string; type: PrincipalType }) =>
    withTessera(flags, async (t) => {
      const ten = await t.tenants.findByName(flags.tenant);
      const items = [];
      let cursor: string | undefined;
      do {
        const page = await t.principals.list(ten.id, flags.type, 100, cursor);
        items.push(...page.items);
        cursor = page.next ?? undefined;
      } while (cursor);
      print(flags, items, items.map((p) => `${p.id}\t${p.authType}\t${p.displayName}${p.hasRotatedSecrets ? '\t(rotated secret active)' : ''}`).join('\n'));
    }),
);
const PREFIXES: Record<string, PrincipalType> = { srv_: 'service', agt_: 'agent' };

/** The principal type a client id names by its prefix; a contradicting --type is refused. */
function typeOf(clientId: string, given: PrincipalType | undefined): PrincipalType {
  const type = PREFIXES[clientId.slice(0, 4)];
  if (type === undefined) throw badRequest(`${clientId} is not a principal id: service principal ids start with srv_, agent principal ids with agt_.`);
  if (given !== undefined && given !== type) {
    throw badRequest(`--type ${given} contradicts ${clientId}, the id of ${type === 'agent' ? 'an agent' : 'a service'} principal (leave --type out).`);
  }
  return type;
}

const byId = (name: string, description: string) =>
  globalOptions(
    principal.command(`${name} <clientId>`).description(description).requiredOption('--tenant <name>')
      .addOption(new Option('--type <type>', 'service or agent (default: from the id\'s prefix, srv_ or agt_)').choices(['service', 'agent'])),
  );
byId('rotate', 'issue a new secret; the old one works until --revoke-rotated-after (default P30D, at most P30D)')
  .option('--revoke-rotated-after <duration>', 'ISO-8601 duration, e.g. P7D or P0D')
  .action(async (clientId: string, flags: Flags & { tenant: string; type?: PrincipalType; revokeRotatedAfter?: string }) => {
    const type = typeOf(clientId, flags.type);
    return withTessera(flags, async (t) => {
      const ten = await t.tenants.findByName(flags.tenant);
      const r = await t.principals.rotate(ten.id, type, clientId, flags.revokeRotatedAfter, CLI_ACTOR);
      print(flags, r, `New secret: ${r.clientSecret}\nThe rotated secret works until ${r.rotatedSecretExpiresAt}`);
    });
  });
byId('revoke-rotated', 'revoke rotated secrets now').action(async (clientId: string, flags: Flags & { tenant: string; type?: PrincipalType }) => {
  const type = typeOf(clientId, flags.type);
  return withTessera(flags, async (t) => {
    const ten = await t.tenants.findByName(flags.tenant);
    const r = await t.principals.revokeRotated(ten.id, type, clientId, CLI_ACTOR);
    print(flags, r, r.message);
  });
});
byId('delete', 'delete a principal; its tokens stop working at once').action(async (clientId: string, flags: Flags & { tenant: string; type?: PrincipalType }) => {
  const type = typeOf(clientId, flags.type);
  return withTessera(flags, async (t) => {
    const ten = await t.tenants.findByName(flags.tenant);
    await t.principals.delete(ten.id, type, clientId, CLI_ACTOR);
    print(flags, { deleted: clientId }, `deleted ${clientId}`);
  });
});

const keys = program.command('keys').description('signing keys');
globalOptions(keys.command('rotate').description('publish a new signing key; it signs after TESSERA_KEY_PUBLISH_LEAD').option('--now', 'sign with the new key at once')).action(
  async (flags: Flags & { now?: boolean }) =>
    withTessera(flags, async (t) => {
      const now = t.clock.now();
      const lead = flags.now ? 0 : t.config.keyPublishLead * 1000;
      const kid = await t.storage.transaction(async (tx) => {
        const id = await SigningKeys.create(tx, t.sealKey, now, lead);
        await t.audit.record(tx, { action: 'signing_key.rotated', tenantId: null, actor: CLI_ACTOR, target: { type: 'signing_key', id } });
        return id;
      });
      const signsFrom = new Date(now + lead).toISOString();
      print(flags, { kid, signsFrom }, `new key ${kid} is published now and signs from ${signsFrom}`);
    }),
);

const baseUrl = program.command('base-url').description("the base URL this database's servers run at, recorded in the database by the first start (or base-url set); every node needs it as TESSERA_BASE_URL");
databaseOptions(baseUrl.command('show').description('print the recorded base URL')).action(async (flags: Flags) =>
  withOpened(configFrom(flags), {}, async (t) => {
    const recorded = await recordedBaseUrl(t.storage.settings);
    print(flags, { baseUrl: recorded ?? null }, recorded ?? 'no base URL recorded yet: the first `tessera start` records its own');
  }),
);
databaseOptions(
  baseUrl.command('set <url>').description('move the deployment to another base URL, then restart every node with it (access tokens issued under the old one stop verifying)'),
).action(async (url: string, flags: Flags) => {
  const config = configFrom({ ...flags, baseUrl: canonicalBaseUrl('url', url) }); // checked as TESSERA_BASE_URL is, named as given
  return withOpened(config, {}, async (t) => {
    const previous = await changeBaseUrl(t.storage.settings, config.baseUrl, t.clock.now());
    const human = previous === undefined
      ? `base URL set to ${config.baseUrl} (none was recorded); start every node with TESSERA_BASE_URL=${config.baseUrl}`
      : sameBaseUrl(previous, config.baseUrl)
        ? `the base URL is ${config.baseUrl} already`
        : `base URL set to ${config.baseUrl} (it was ${previous}); restart every node with TESSERA_BASE_URL=${config.baseUrl}: ` +
          `a node started with ${previous} is refused from now on, and access tokens issued under ${previous} stop verifying`;
    print(flags, { baseUrl: config.baseUrl, previous: previous ?? null }, human);
  });
});

registerAppCommands(program, { globalOptions, withTessera, print, actor: CLI_ACTOR });
registerApiKeyCommands(program, { globalOptions, withTessera, print, actor: CLI_ACTOR });

program.command('config').description('list every configuration key with its default').option('--json', 'print a JSON array of {key, env, default, description}').action((flags: { json?: boolean }) => {
  const rows = describeConfig();
  const human = rows.map((row) => `${row.env}\t${JSON.stringify(row.default)}\t${row.description}`).join('\n');
  print(flags, rows, human);
});

program.parseAsync(process.argv).catch((err: unknown) => {
  const { code, message } = failure(err);
  process.stderr.write(jsonErrors ? errorLine(code, message) : `tessera: ${message}\n`);
  process.exit(err instanceof ProblemError && err.status === 404 ? 3 : 1);
});
