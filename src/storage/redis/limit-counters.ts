import { createClient } from 'redis';
import type { LimitCount, LimitCounterStore, LimitExchange, LimitExchangeRequest, LimitIncrement, SharedIncrement } from '../../core/stores.ts';

/**
 * Adds one increment to a key's live window, or opens a new window when the stored one lapsed
 * before the increment's window began; returns the window's start and count. A hash per key
 * (`s` start, `e` end, `c` count) that expires with its window. When the count crosses the limit
 * (reaches it, or falls back under it) the key goes into the crossings set, scored by Redis's clock.
 * A script, so that reading the window and adding to it are one step however many nodes flush at once.
 * KEYS[1] key, KEYS[2] crossings; ARGV window start, window end, delta, the node's time (integers,
 * epoch ms), limit. The expiry is relative (PEXPIRE, measured from the node's time), so Redis's own
 * clock does not matter to windows.
 */
const ADD = `
local w = redis.call('HMGET', KEYS[1], 's', 'e', 'c')
local start, before, count
if w[1] and tonumber(w[2]) > tonumber(ARGV[1]) then
  start, before = tonumber(w[1]), tonumber(w[3]) or 0
  count = redis.call('HINCRBY', KEYS[1], 'c', ARGV[3])
else
  start, before, count = tonumber(ARGV[1]), 0, tonumber(ARGV[3])
  redis.call('HSET', KEYS[1], 's', ARGV[1], 'e', ARGV[2], 'c', ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.max(1000, tonumber(ARGV[2]) - tonumber(ARGV[4]) + 1000))
end
local limit = tonumber(ARGV[5])
if (before >= limit) ~= (count >= limit) then
  local t = redis.call('TIME')
  redis.call('ZADD', KEYS[2], t[1] * 1000 + math.floor(t[2] / 1000), KEYS[1])
end
return {start, count}
`;

/**
 * The keys that crossed their limit since a time of Redis's clock, with their live window and count:
 * returns Redis's time, then key, start, count for each. Drops crossings older than the longest
 * window first (their windows have lapsed), and lets the set expire after as long once no node
 * exchanges any more. KEYS[1] crossings; ARGV since (ms, Redis's clock), the node's time, the
 * longest window (ms, with some slack).
 */
const CROSSED = `
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('(%d', now - tonumber(ARGV[3])))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
local out = {now}
for _, key in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], '+inf')) do
  local w = redis.call('HMGET', key, 's', 'e', 'c')
  if w[1] and tonumber(w[2]) > tonumber(ARGV[2]) then
    out[#out + 1] = key
    out[#out + 1] = tonumber(w[1])
    out[#out + 1] = tonumber(w[3])
  end
end
return out
`;

/** Kept beyond the longest window before a crossing is dropped: a node's clock and Redis's may differ a little. */
const CLOCK_SLACK_MS = 60_000;

/** How far before the last answer's time an exchange reads crossings again (a step back of Redis's clock); read twice, they fold in idempotently. */
const REREAD_MS = 1000;

/**
 * Shared rate-limit counters in Redis (TESSERA_REDIS_URL): one pipeline per exchange (one script
 * call per key, one to read the crossings), every key under `prefix` (one deployment's namespace;
 * the crossings are the sorted set `{prefix}~crossed`). Commands are not queued while the connection
 * is down: an exchange then fails at once and the syncer keeps limiting locally, while the client
 * reconnects in the background. Only the first exchange waits, for the first connection attempt, so
 * that an unreachable Redis is told at start-up from one still connecting.
 */
export class RedisLimitCounterStore implements LimitCounterStore {
  private readonly client;
  private readonly crossedKey: string;
  /** Settles when the first connection attempt succeeds or fails. */
  private readonly firstAttempt: Promise<void>;

  constructor(url: string, private readonly prefix: string) {
    this.crossedKey = `${prefix}~crossed`;
    this.client = createClient({
      url,
      disableOfflineQueue: true,
      socket: { connectTimeout: 2000, reconnectStrategy: (retries) => Math.min(100 * 2 ** retries, 2000) },
    });
    this.firstAttempt = new Promise((resolve) => {
      const settle = () => {
        this.client.off('ready', settle).off('error', settle);
        resolve();
      };
      this.client.on('ready', settle).on('error', settle);
    });
    this.client.on('error', () => {}); // reported by the failed exchanges (once per outage), not per reconnect attempt
    this.client.connect().catch(() => {});
  }

  async add(batch: readonly LimitIncrement[], now: number): Promise<LimitCount[]> {
    if (batch.length === 0) return [];
    return (await this.send(batch.map((i) => ({ ...i, limit: Number.MAX_SAFE_INTEGER })), now)).counts;
  }

  async exchange({ batch, seen, now, longestWindowMs }: LimitExchangeRequest): Promise<LimitExchange> {
    await this.firstAttempt;
    return this.send(batch, now, { since: Math.max(0, seen - REREAD_MS), longestWindowMs });
  }

  /** One pipeline: the batch, then (unless `crossings` is undefined) the crossings since `crossings.since`. */
  private async send(batch: readonly SharedIncrement[], now: number, crossings?: { since: number; longestWindowMs: number }): Promise<LimitExchange> {
    if (!this.client.isReady) throw new Error('Redis is not connected');
    const multi = this.client.multi();
    for (const i of batch) {
      const args = [i.windowStart, i.windowStart + i.windowMs, i.delta, now, i.limit].map(String);
      multi.eval(ADD, { keys: [this.prefix + i.key, this.crossedKey], arguments: args });
    }
    if (crossings) {
      const args = [crossings.since, now, crossings.longestWindowMs + CLOCK_SLACK_MS].map(String);
      multi.eval(CROSSED, { keys: [this.crossedKey], arguments: args });
    }
    const replies = (await multi.execAsPipeline()) as unknown[];
    const counts = batch.map((i, n) => {
      const [start, count] = replies[n] as [number, number];
      return { key: i.key, windowStart: Number(start), count: Math.max(0, Number(count)) };
    });
    if (!crossings) return { counts, crossed: [], seen: 0 };
    const [time, ...found] = replies[batch.length] as Array<number | string>;
    const crossed: LimitCount[] = [];
    for (let n = 0; n + 2 < found.length; n += 3) {
      crossed.push({ key: String(found[n]).slice(this.prefix.length), windowStart: Number(found[n + 1]), count: Math.max(0, Number(found[n + 2])) });
    }
    return { counts, crossed, seen: Number(time) };
  }

  /** Nothing to do: every key expires with its window, and crossings are dropped as they are read. */
  async prune(): Promise<void> {}

  async close(): Promise<void> {
    if (this.client.isOpen) await this.client.close();
    else this.client.destroy();
  }
}
