import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parseMasterKey } from './core/master-key.ts';
import { loadScopeCatalogue } from './core/scope-file.ts';

/**
 * One configuration schema: every key with its default and description. Values come from (lowest
 * to highest precedence) defaults, a JSON file (`TESSERA_CONFIG`), `TESSERA_*` environment
 * variables and command-line flags. Validation runs at start-up and names the bad key.
 */
const Seconds = (def: number, description: string, maximum: number, minimum = 1) =>
  Type.Integer({ default: def, minimum, maximum, description: `${description}; at most ${maximum}` });

/**
 * The largest durations: far beyond any sane setting, and small enough that an expiry computed from
 * them stays a valid date and a timer set from them fires when it should (Node's timers wrap above
 * 2^31 ms, about 24.8 days).
 */
const MINUTES_5 = 300;
const HOUR = 3600;
const DAY = 86_400;
const DAYS_30 = 30 * DAY;

export const ConfigSchema = Type.Object({
  port: Type.Integer({ default: 8080, minimum: 0, maximum: 65535, description: 'TCP port to listen on' }),
  host: Type.String({ default: '0.0.0.0', description: 'Interface to bind: an IP address of this machine (0.0.0.0 or :: for all) or a host name' }),
  baseUrl: Type.String({ default: '', description: 'Public base URL and site issuer; defaults to http://localhost:{port}' }),
  databaseUrl: Type.String({ default: '', description: '`sqlite:<file>` or `postgres://…`; defaults to sqlite:{dataDir}/tessera.db' }),
  dataDir: Type.String({ default: './data', description: 'Directory for the default SQLite file (tessera.db) and the generated master key' }),
  site: Type.String({ default: 'us1', pattern: '^[a-z0-9-]{1,32}$', description: 'This deployment\'s site (region) name' }),
  sites: Type.Record(Type.String(), Type.String(), { default: {}, description: 'JSON map site → base URL of every site (this one is added)' }),
  tenantDomain: Type.String({ default: 'localhost', pattern: '^[a-z0-9.-]+$', description: 'Tenants answer at {name}.{tenantDomain}' }),
  masterKey: Type.String({ default: '', description: 'Master key (≥256 bits, base64url or hex); generated into {dataDir}/master.key when empty' }),
  accessTokenTtl: Seconds(3600, 'Site-level access-token lifetime, seconds', DAY),
  tenantAccessTokenTtl: Seconds(3599, 'Tenant-realm (client credentials) access-token lifetime, seconds', DAY),
  clockSkew: Seconds(30, 'Leeway for exp/nbf checks, seconds', MINUTES_5, 0),
  keyPublishLead: Seconds(60, 'How long a rotated-in signing key is published before it signs, seconds', DAYS_30, 0),
  refreshRetryWindow: Seconds(30, 'How long a just-retired refresh token may be retried (same successor) before reuse revokes the authorization, seconds; 0 turns retries off', HOUR, 0),
  sessionIdleTimeout: Seconds(1800, 'Console session idle timeout, seconds', DAYS_30),
  sessionLifetime: Seconds(43200, 'Console session absolute lifetime, seconds', DAYS_30),
  loginFailuresPerAccount: Type.Integer({ default: 5, minimum: 1, description: 'Failed sign-ins (and wrong current passwords on a password change) per account from one client IP (IPv6: /64) per window before 429' }),
  loginFailuresPerIp: Type.Integer({ default: 50, minimum: 1, description: 'Failed sign-ins per client IP (IPv6: /64) per window, whatever the account, before 429' }),
  loginFailuresPerAccountAllIps: Type.Integer({ default: 20, minimum: 1, description: 'Failed sign-ins per account from all client IPs together per window before 429; an IP that signed in to the account in the last 30 days is exempt, so strangers cannot lock the owner out' }),
  loginFailureWindow: Seconds(900, 'Sign-in failure window, seconds', DAY),
  oneTimePasswordTtl: Seconds(604800, 'How long a generated one-time password (new user, new one-time password) stays valid for its single sign-in, seconds', DAYS_30),
  clientAuthFailuresPerClient: Type.Integer({ default: 10, minimum: 1, description: 'Failed client authentications per client id per window before 429' }),
  clientAuthFailuresPerIp: Type.Integer({ default: 300, minimum: 1, description: 'Failed client authentications per IP per window before 429' }),
  clientAuthFailureWindow: Seconds(60, 'Client-authentication failure window, seconds', DAY),
  rateLimitPerIp: Type.Integer({ default: 3000, minimum: 1, description: 'Requests per IP per minute on lookup, authorize and /api/v1/validate endpoints; on introspection, anonymous requests (no client credentials) per IP per minute' }),
  introspectionRequestsPerClient: Type.Integer({ default: 600000, minimum: 1, description: 'Introspection requests per authenticated caller (principal or integration client) per minute; these do not count per IP' }),
  redisUrl: Type.String({ default: '', description: 'redis://host[:port][/db] or rediss://… (TLS) of a Redis server whose counters every node shares for rate limits (wins over PostgreSQL); empty: PostgreSQL\'s, or on SQLite each node counts alone' }),
  redisPrefix: Type.String({ default: '', description: 'Prefix of this deployment\'s Redis keys; empty: tessera:{site}:' }),
  limitSyncInterval: Type.Integer({ default: 100, minimum: 10, maximum: 10000, description: 'How often a node shares its rate-limit counts with the other nodes (Redis or PostgreSQL); a node may let through up to about two intervals\' extra attempts, ms' }),
  trustedProxies: Type.Array(Type.String(), { default: [], description: 'Proxies whose X-Forwarded-For is believed: IP addresses, CIDR ranges (10.0.0.0/8) or loopback, linklocal, uniquelocal (JSON array or comma list)' }),
  bodyLimit: Type.Integer({ default: 65536, minimum: 1024, maximum: 67108864, description: 'Largest request body on OAuth and management routes, bytes; at most 67108864 (64 MiB)' }),
  ingestBodyLimit: Type.Integer({ default: 4194304, minimum: 1024, description: 'Largest telemetry body on /data/v1/* and /api/v2/series, bytes' }),
  requestTimeout: Seconds(30, 'Time a client has to send a whole request, headers and body; a slower one gets 408 and its connection is closed (also bounds draining at shutdown), seconds', HOUR),
  headersTimeout: Seconds(10, 'Time a client has to send the request line and headers (also a new connection that sends nothing), at most TESSERA_REQUEST_TIMEOUT (unset: the lower of 10 and TESSERA_REQUEST_TIMEOUT), seconds', HOUR),
  keepAliveTimeout: Seconds(72, 'How long an idle keep-alive connection stays open; keep it above the idle timeout of a load balancer in front, seconds', HOUR),
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

/** Where a given key's value came from (highest precedence first); the others took their defaults. */
type Origin = 'flag' | 'env' | 'file';

/**
 * A key as the user gave it, for error messages: `--data-dir`, `TESSERA_DATA_DIR`, or
 * `TESSERA_CONFIG.dataDir` for a key of the config file; by its variable when it took its default.
 */
function keyName(key: string, origin: Origin | undefined): string {
  if (origin === 'flag') return '--' + key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
  if (origin === 'file') return `TESSERA_CONFIG.${key}`;
  return envName(key);
}

function coerce(name: string, schema: TSchema, raw: unknown): unknown {
  if (typeof raw !== 'string') return raw;
  if (schema.type === 'array' && !raw.trim().startsWith('[')) return raw.split(',').map((s) => s.trim()).filter(Boolean);
  if (schema.type === 'object' || schema.type === 'array') {
    try {
      return JSON.parse(raw);
    } catch {
      throw new ConfigError(`${name}: not valid JSON`);
    }
  }
  // Numbers are written in decimal, integers without a fraction: Value.Convert would also take
  // `0x7d64` or `1e3` for a port, and turn `19105.7` into 19105. Left as text, the schema refuses them.
  if (schema.type === 'integer' && !/^-?\d+$/.test(raw.trim())) return raw;
  if (schema.type === 'number' && !/^-?\d+(?:\.\d+)?$/.test(raw.trim())) return raw;
  return Value.Convert(schema, raw);
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * A base URL as Tessera keeps and compares it: an https origin (plain http only on loopback), its
 * scheme and host in lower case, without a default port or trailing slash (`HTTPS://ID.Example.com:443/`
 * → `https://id.example.com`). Refused with a ConfigError that names the setting as given (`name`)
 * and repeats the value as typed.
 */
export function canonicalBaseUrl(name: string, text: string): string {
  let url: URL;
  try {
    url = new URL(text.replace(/\/+$/, '') + '/');
  } catch {
    throw new ConfigError(`${name}: not an absolute URL: ${JSON.stringify(text)}`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname))) {
    throw new ConfigError(`${name}: must be https (plain http only for localhost, 127.0.0.1 or [::1])`);
  }
  if (url.pathname !== '/' || url.search || url.hash || url.username) {
    throw new ConfigError(`${name}: must be an origin without path, query, fragment or credentials`);
  }
  return url.origin;
}

/**
 * A Redis URL as the Redis client takes it: `redis:` or `rediss:` (TLS), a host, at most a database
 * number as path. The message never repeats the URL, which may hold a password.
 */
function checkRedisUrl(name: string, text: string): void {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(`${name}: not an absolute URL (redis://host[:port][/db] or rediss://host[:port][/db])`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new ConfigError(`${name}: must start with redis:// or rediss:// (got ${url.protocol})`);
  }
  if (url.hostname === '') throw new ConfigError(`${name}: names no host (redis://host[:port][/db])`);
  if (!/^(\/\d*)?$/.test(url.pathname)) throw new ConfigError(`${name}: the path may only be a database number (redis://host[:port]/0)`);
}

/** The named ranges Fastify's trustProxy (proxy-addr) expands, besides addresses and CIDR ranges. */
const NAMED_RANGES = ['loopback', 'linklocal', 'uniquelocal'];

/** The prefix length of a dotted IPv4 netmask (255.255.0.0 → 16); undefined if it is none. */
function netmaskBits(text: string): number | undefined {
  if (isIP(text) !== 4) return undefined;
  const bits = text.split('.').map((part) => Number(part).toString(2).padStart(8, '0')).join('');
  return /^1*0*$/.test(bits) ? bits.replace(/0+$/, '').length : undefined;
}

/**
 * What is wrong with a trusted-proxy entry, as Fastify would refuse it at start-up (and a little
 * stricter: no shorthand IPv4 like 127.1); undefined for an IP address, a CIDR range (an IPv4 one
 * also with a netmask, 10.0.0.0/255.0.0.0) or a named range.
 */
function proxyProblem(entry: string): string | undefined {
  if (NAMED_RANGES.includes(entry)) return undefined;
  const slash = entry.lastIndexOf('/');
  const version = isIP(slash === -1 ? entry : entry.slice(0, slash));
  if (version === 0) return `${JSON.stringify(entry)} is not an IP address, a CIDR range or one of ${NAMED_RANGES.join(', ')}`;
  if (slash === -1) return undefined;
  const range = entry.slice(slash + 1);
  const max = version === 4 ? 32 : 128;
  const bits = /^\d+$/.test(range) ? Number(range) : version === 4 ? netmaskBits(range) : undefined;
  return bits !== undefined && bits >= 1 && bits <= max ? undefined : `${JSON.stringify(entry)}: the prefix length must be 1 to ${max}`;
}

/** This site's base URL, also entered as this site's entry of `sites`. */
export function withBaseUrl(config: Config, baseUrl: string): Config {
  return { ...config, baseUrl, sites: { ...config.sites, [config.site]: baseUrl } };
}

export interface ResolvedConfig {
  config: Config;
  /** The keys a flag, a `TESSERA_*` variable or the config file set; the others took their defaults. */
  given: ReadonlySet<ConfigKey>;
  /** A key's name as it was given (`--database-url`, `TESSERA_CONFIG.databaseUrl`); its variable's when defaulted. */
  name(key: ConfigKey): string;
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

function readConfigFile(file: string | undefined): Record<string, unknown> {
  if (!file) return {};
  let values: Record<string, unknown>;
  try {
    values = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new ConfigError(`TESSERA_CONFIG: cannot read ${file}: ${(e as Error).message}`);
  }
  if (typeof values !== 'object' || values === null || Array.isArray(values)) throw new ConfigError(`TESSERA_CONFIG: ${file} must hold a JSON object`);
  for (const key of Object.keys(values)) {
    if (!(key in ConfigSchema.properties)) throw new ConfigError(`TESSERA_CONFIG: unknown key ${JSON.stringify(key)}`);
  }
  return values;
}

/** `loadConfig`, telling also which keys were given rather than defaulted. */
export function resolveConfig(
  env: NodeJS.ProcessEnv = process.env,
  flags: Partial<Record<ConfigKey, unknown>> = {},
): ResolvedConfig {
  const fromFile = readConfigFile(env.TESSERA_CONFIG);
  const merged: Record<string, unknown> = {};
  const origins = new Map<ConfigKey, Origin>();
  const raws = new Map<ConfigKey, unknown>();
  for (const [key, schema] of Object.entries(ConfigSchema.properties) as Array<[ConfigKey, TSchema]>) {
    const sources: Array<[Origin, unknown]> = [['flag', flags[key]], ['env', env[envName(key)]], ['file', fromFile[key]]];
    const [origin, raw] = sources.find(([, value]) => value !== undefined) ?? [];
    if (origin === undefined || raw === '') {
      merged[key] = structuredClone(schema.default);
      continue;
    }
    origins.set(key, origin);
    raws.set(key, raw);
    merged[key] = coerce(keyName(key, origin), schema, raw);
  }
  const name = (key: string) => keyName(key, origins.get(key as ConfigKey));
  const error = Value.Errors(ConfigSchema, merged).First();
  if (error) {
    const key = error.path.split('/')[1] ?? error.path;
    // A number is echoed as it was written: beyond 2^53, the one it became is another.
    const raw = raws.get(key as ConfigKey);
    // A number too large for a double (1e400 in the config file) became Infinity, which JSON spells null.
    const got = typeof error.value === 'number' && typeof raw === 'string' && error.path === `/${key}` ? raw.trim()
      : typeof error.value === 'number' && !Number.isFinite(error.value) ? String(error.value) : JSON.stringify(error.value);
    throw new ConfigError(`${name(key)}: ${error.message} (got ${got})`);
  }
  const config = checkValues(merged as Config, origins, name);
  // The default base URL is made from the port, so it cannot be "any free port".
  if (!config.baseUrl && config.port === 0) {
    throw new ConfigError(`${name('port')}: 0 (any free port) needs ${name('baseUrl')}, which is otherwise made from the port`);
  }
  const baseUrl = canonicalBaseUrl(name('baseUrl'), config.baseUrl || `http://localhost:${config.port}`);
  config.sites = Object.fromEntries(Object.entries(config.sites).map(([site, url]) => [site, canonicalBaseUrl(`${name('sites')}.${site}`, url)]));
  return { config: withBaseUrl(config, baseUrl), given: new Set(origins.keys()), name };
}

/** The checks across keys and beyond the schema, and the defaults that follow other keys. */
function checkValues(config: Config, origins: ReadonlyMap<ConfigKey, Origin>, name: (key: ConfigKey) => string): Config {
  if (!origins.has('headersTimeout')) config.headersTimeout = Math.min(config.headersTimeout, config.requestTimeout);
  if (config.headersTimeout > config.requestTimeout) {
    throw new ConfigError(`${name('headersTimeout')}: must not exceed ${name('requestTimeout')} (${config.headersTimeout} > ${config.requestTimeout})`);
  }
  for (const entry of config.trustedProxies) {
    const problem = proxyProblem(entry);
    if (problem !== undefined) throw new ConfigError(`${name('trustedProxies')}: ${problem}`);
  }
  if (config.redisUrl) checkRedisUrl(name('redisUrl'), config.redisUrl);
  const host = hostProblem(config.host);
  if (host !== undefined) throw new ConfigError(`${name('host')}: ${host}`);
  if (!config.databaseUrl) config.databaseUrl = `sqlite:${config.dataDir.replace(/\/+$/, '')}/tessera.db`;
  // A URL's scheme is case-insensitive (POSTGRES://, SQLite:): kept in lower case.
  config.databaseUrl = config.databaseUrl.replace(/^(sqlite|postgres(?:ql)?):/i, (scheme) => scheme.toLowerCase());
  checkDatabaseUrl(name('databaseUrl'), config.databaseUrl);
  // Read as start-up reads them, so that a bad one is a configuration error naming its key.
  asConfigError(() => config.masterKey && parseMasterKey(config.masterKey, name('masterKey')));
  asConfigError(() => config.scopeCatalogue && loadScopeCatalogue(config.scopeCatalogue, name('scopeCatalogue')));
  return config;
}

/** Runs a check whose message names the key; its failure becomes a ConfigError. */
function asConfigError(check: () => unknown): void {
  try {
    check();
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
}

/** `a.b-c.d`, labels of letters, digits and inner hyphens (RFC 1123); a trailing dot is allowed. */
const HOST_NAME = /^(?=[^]{1,254}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

/** What is wrong with the host to listen on; undefined for an IP address or a host name. */
function hostProblem(host: string): string | undefined {
  if (isIP(host) !== 0 || HOST_NAME.test(host)) return undefined;
  const bare = /^\[(.*)\]$/.exec(host)?.[1];
  if (bare !== undefined && isIP(bare) === 6) return `${JSON.stringify(host)}: write an IPv6 address without brackets (${bare})`;
  return `${JSON.stringify(host)} is not an IP address or a host name`;
}

/**
 * `sqlite:<file>`, `sqlite::memory:` or `postgres://…` (`postgresql://…`), the engines Tessera runs
 * on. The message names only the scheme given: the URL may hold a password.
 */
function checkDatabaseUrl(name: string, url: string): void {
  if (url === 'sqlite:') throw new ConfigError(`${name}: sqlite: needs a file path, e.g. sqlite:./data/tessera.db`);
  if (url.startsWith('sqlite:') || /^postgres(ql)?:\/\//.test(url)) return;
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:/.exec(url)?.[0];
  throw new ConfigError(
    `${name}: must be sqlite:<file> (e.g. sqlite:./data/tessera.db), sqlite::memory: or postgres://user:password@host:5432/database ` +
      `(got ${scheme === undefined ? 'no URL scheme' : scheme})`,
  );
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
