import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/**
 * One configuration schema: every key with its default and description. Values come from (lowest
 * to highest precedence) defaults, a JSON file (`TESSERA_CONFIG`), `TESSERA_*` environment
 * variables and command-line flags. Validation runs at start-up and names the bad key.
 */
const Seconds = (def: number, description: string, minimum = 1) =>
  Type.Integer({ default: def, minimum, description });

export const ConfigSchema = Type.Object({
  port: Type.Integer({ default: 8080, minimum: 0, maximum: 65535, description: 'TCP port to listen on' }),
  host: Type.String({ default: '0.0.0.0', description: 'Interface to bind' }),
  baseUrl: Type.String({ default: '', description: 'Public base URL and site issuer; defaults to http://localhost:{port}' }),
  databaseUrl: Type.String({ default: '', description: '`sqlite:<file>` or `postgres://…`; defaults to sqlite:{dataDir}/tessera.db' }),
  dataDir: Type.String({ default: './data', description: 'Directory for the default SQLite file (tessera.db) and the generated master key' }),
  site: Type.String({ default: 'us1', pattern: '^[a-z0-9-]{1,32}$', description: 'This deployment\'s site (region) name' }),
  sites: Type.Record(Type.String(), Type.String(), { default: {}, description: 'JSON map site → base URL of every site (this one is added)' }),
  tenantDomain: Type.String({ default: 'localhost', pattern: '^[a-z0-9.-]+$', description: 'Tenants answer at {name}.{tenantDomain}' }),
  masterKey: Type.String({ default: '', description: 'Master key (≥256 bits, base64url or hex); generated into {dataDir}/master.key when empty' }),
  accessTokenTtl: Seconds(3600, 'Site-level access-token lifetime, seconds'),
  tenantAccessTokenTtl: Seconds(3599, 'Tenant-realm (client credentials) access-token lifetime, seconds'),
  clockSkew: Seconds(30, 'Leeway for exp/nbf checks, seconds', 0),
  keyPublishLead: Seconds(60, 'How long a rotated-in signing key is published before it signs, seconds', 0),
  refreshRetryWindow: Seconds(30, 'How long a just-retired refresh token may be retried (same successor) before reuse revokes the authorization, seconds; 0 turns retries off', 0),
  sessionIdleTimeout: Seconds(1800, 'Console session idle timeout, seconds'),
  sessionLifetime: Seconds(43200, 'Console session absolute lifetime, seconds'),
  loginFailuresPerAccount: Type.Integer({ default: 5, minimum: 1, description: 'Failed sign-ins (and wrong current passwords on a password change) per account from one client IP (IPv6: /64) per window before 429' }),
  loginFailuresPerIp: Type.Integer({ default: 50, minimum: 1, description: 'Failed sign-ins per client IP (IPv6: /64) per window, whatever the account, before 429' }),
  loginFailuresPerAccountAllIps: Type.Integer({ default: 20, minimum: 1, description: 'Failed sign-ins per account from all client IPs together per window before 429; an IP that signed in to the account in the last 30 days is exempt, so strangers cannot lock the owner out' }),
  loginFailureWindow: Seconds(900, 'Sign-in failure window, seconds'),
  oneTimePasswordTtl: Seconds(604800, 'How long a generated one-time password (new user, new one-time password) stays valid for its single sign-in, seconds'),
  clientAuthFailuresPerClient: Type.Integer({ default: 10, minimum: 1, description: 'Failed client authentications per client id per window before 429' }),
  clientAuthFailuresPerIp: Type.Integer({ default: 300, minimum: 1, description: 'Failed client authentications per IP per window before 429' }),
  clientAuthFailureWindow: Seconds(60, 'Client-authentication failure window, seconds'),
  rateLimitPerIp: Type.Integer({ default: 3000, minimum: 1, description: 'Requests per IP per minute on lookup, authorize and /api/v1/validate endpoints; on introspection, anonymous requests (no client credentials) per IP per minute' }),
  introspectionRequestsPerClient: Type.Integer({ default: 600000, minimum: 1, description: 'Introspection requests per authenticated caller (principal or integration client) per minute; these do not count per IP' }),
  redisUrl: Type.String({ default: '', description: 'redis://host[:port][/db] or rediss://… (TLS) of a Redis server whose counters every node shares for rate limits (wins over PostgreSQL); empty: PostgreSQL\'s, or on SQLite each node counts alone' }),
  redisPrefix: Type.String({ default: '', description: 'Prefix of this deployment\'s Redis keys; empty: tessera:{site}:' }),
  limitSyncInterval: Type.Integer({ default: 100, minimum: 10, maximum: 10000, description: 'How often a node shares its rate-limit counts with the other nodes (Redis or PostgreSQL); a node may let through about one interval\'s extra attempts, ms' }),
  trustedProxies: Type.Array(Type.String(), { default: [], description: 'Proxies whose X-Forwarded-For is believed: IP addresses, CIDR ranges (10.0.0.0/8) or loopback, linklocal, uniquelocal (JSON array or comma list)' }),
  bodyLimit: Type.Integer({ default: 65536, minimum: 1024, description: 'Largest request body on OAuth and management routes, bytes' }),
  ingestBodyLimit: Type.Integer({ default: 4194304, minimum: 1024, description: 'Largest telemetry body on /data/v1/* and /api/v2/series, bytes' }),
  requestTimeout: Seconds(30, 'Time a client has to send a whole request, headers and body; a slower one gets 408 and its connection is closed (also bounds draining at shutdown), seconds'),
  headersTimeout: Seconds(10, 'Time a client has to send the request line and headers (also a new connection that sends nothing), at most TESSERA_REQUEST_TIMEOUT (unset: the lower of 10 and TESSERA_REQUEST_TIMEOUT), seconds'),
  keepAliveTimeout: Seconds(72, 'How long an idle keep-alive connection stays open; keep it above the idle timeout of a load balancer in front, seconds'),
  changePollInterval: Type.Integer({ default: 200, minimum: 10, maximum: 900, description: 'How often a node reads the change log (revocations, principal changes), ms' }),
  scopeCatalogue: Type.String({ default: '', description: 'Path of a JSON scope catalogue replacing the built-in one' }),
  logLevel: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)), {
    default: 'info',
    description: 'pino log level',
  }),
});

export type Config = Static<typeof ConfigSchema>;
export type ConfigKey = keyof Config;

export const envName = (key: string): string => 'TESSERA_' + key.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase();

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function coerce(key: string, schema: TSchema, raw: unknown): unknown {
  if (typeof raw !== 'string') return raw;
  if (schema.type === 'array' && !raw.trim().startsWith('[')) return raw.split(',').map((s) => s.trim()).filter(Boolean);
  if (schema.type === 'object' || schema.type === 'array') {
    try {
      return JSON.parse(raw);
    } catch {
      throw new ConfigError(`${envName(key)}: not valid JSON`);
    }
  }
  return Value.Convert(schema, raw);
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

function checkUrl(name: string, text: string): void {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(`${name}: not an absolute URL: ${JSON.stringify(text)}`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname))) {
    throw new ConfigError(`${name}: must be https (plain http only for localhost, 127.0.0.1 or [::1])`);
  }
  if (url.pathname !== '/' || url.search || url.hash || url.username) {
    throw new ConfigError(`${name}: must be an origin without path, query, fragment or credentials`);
  }
}

/** This site's base URL, also entered as this site's entry of `sites`. */
export function withBaseUrl(config: Config, baseUrl: string): Config {
  return { ...config, baseUrl, sites: { ...config.sites, [config.site]: baseUrl } };
}

export interface ResolvedConfig {
  config: Config;
  /** The keys a flag, a `TESSERA_*` variable or the config file set; the others took their defaults. */
  given: ReadonlySet<ConfigKey>;
}

/**
 * Builds the configuration from defaults, file, environment and flags; throws ConfigError naming
 * the first bad key.
 */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  flags: Partial<Record<ConfigKey, unknown>> = {},
): Config {
  return resolveConfig(env, flags).config;
}

/** `loadConfig`, telling also which keys were given rather than defaulted. */
export function resolveConfig(
  env: NodeJS.ProcessEnv = process.env,
  flags: Partial<Record<ConfigKey, unknown>> = {},
): ResolvedConfig {
  const merged: Record<string, unknown> = {};
  const given = new Set<ConfigKey>();
  const file = env.TESSERA_CONFIG;
  if (file) {
    try {
      Object.assign(merged, JSON.parse(readFileSync(file, 'utf8')));
    } catch (e) {
      throw new ConfigError(`TESSERA_CONFIG: cannot read ${file}: ${(e as Error).message}`);
    }
  }
  for (const [key, schema] of Object.entries(ConfigSchema.properties)) {
    const fromEnv = env[envName(key)];
    const raw = flags[key as ConfigKey] ?? fromEnv ?? merged[key];
    if (raw === undefined || raw === '') {
      merged[key] = structuredClone((schema as TSchema).default);
      continue;
    }
    given.add(key as ConfigKey);
    merged[key] = coerce(key, schema as TSchema, raw);
  }
  for (const key of Object.keys(merged)) {
    if (!(key in ConfigSchema.properties)) throw new ConfigError(`TESSERA_CONFIG: unknown key ${JSON.stringify(key)}`);
  }
  const error = Value.Errors(ConfigSchema, merged).First();
  if (error) {
    const key = error.path.split('/')[1] ?? error.path;
    throw new ConfigError(`${envName(key)}: ${error.message} (got ${JSON.stringify(error.value)})`);
  }
  const config = merged as Config;
  if (config.headersTimeout > config.requestTimeout) {
    throw new ConfigError(`${envName('headersTimeout')}: must not exceed ${envName('requestTimeout')} (${config.headersTimeout} > ${config.requestTimeout})`);
  }
  if (!config.databaseUrl) config.databaseUrl = `sqlite:${config.dataDir.replace(/\/+$/, '')}/tessera.db`;
  const baseUrl = (config.baseUrl || `http://localhost:${config.port}`).replace(/\/+$/, '');
  checkUrl(envName('baseUrl'), baseUrl + '/');
  for (const [site, url] of Object.entries(config.sites)) checkUrl(`${envName('sites')}.${site}`, url.replace(/\/+$/, '') + '/');
  return { config: withBaseUrl(config, baseUrl), given };
}

/**
 * Every key with its environment variable, default value and description, in schema order (used by
 * `tessera config`, its `--json` form, and the README's configuration table).
 */
export function describeConfig(): Array<{ key: ConfigKey; env: string; default: unknown; description: string }> {
  return Object.entries(ConfigSchema.properties).map(([key, schema]) => ({
    key: key as ConfigKey,
    env: envName(key),
    default: (schema as TSchema).default,
    description: String((schema as TSchema).description ?? ''),
  }));
}
