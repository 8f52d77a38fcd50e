import { createClient } from 'redis';
import type { LimitCount, LimitCounterStore, LimitIncrement } from '../../core/stores.ts';

/**
 * Adds one increment to a key's live window, or opens a new window when the stored one lapsed
 * before the increment's window began; returns the window's start and count. A hash per key
 * (`s` start, `e` end, `c` count) that expires with its window. A script, so that reading the
 * window and adding to it are one step however many nodes flush at once.
 * KEYS[1] key; ARGV window start, window end, delta, the node's time (integers, epoch ms). The
 * expiry is relative (PEXPIRE, measured from the node's time), so Redis's own clock does not matter.
 */
const ADD = `
local w = redis.call('HMGET', KEYS[1], 's', 'e')
if w[1] and tonumber(w[2]) > tonumber(ARGV[1]) then
  return {tonumber(w[1]), redis.call('HINCRBY', KEYS[1], 'c', ARGV[3])}
end
redis.call('HSET', KEYS[1], 's', ARGV[1], 'e', ARGV[2], 'c', ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.max(1000, tonumber(ARGV[2]) - tonumber(ARGV[4]) + 1000))
return {tonumber(ARGV[1]), tonumber(ARGV[3])}
`;

/**
 * Shared rate-limit counters in Redis (TESSERA_REDIS_URL): one pipeline per flush, one script call
 * per key, every key under `prefix` (one deployment's namespace). Commands are not queued while the
 * connection is down: a flush then fails at once and the syncer keeps limiting locally, while the
 * client reconnects in the background.
 */
export class RedisLimitCounterStore implements LimitCounterStore {
  private readonly client;

  constructor(url: string, private readonly prefix: string) {
    this.client = createClient({
      url,
      disableOfflineQueue: true,
      socket: { connectTimeout: 2000, reconnectStrategy: (retries) => Math.min(100 * 2 ** retries, 2000) },
    });
    this.client.on('error', () => {}); // reported by the failed flushes (once per outage), not per reconnect attempt
    this.client.connect().catch(() => {});
  }

  async add(batch: readonly LimitIncrement[], now: number): Promise<LimitCount[]> {
    if (batch.length === 0) return [];
    if (!this.client.isReady) throw new Error('Redis is not connected');
    const multi = this.client.multi();
    for (const i of batch) {
      multi.eval(ADD, { keys: [this.prefix + i.key], arguments: [String(i.windowStart), String(i.windowStart + i.windowMs), String(i.delta), String(now)] });
    }
    const replies = (await multi.execAsPipeline()) as unknown as Array<[number, number]>;
    return batch.map((i, n) => {
      const [start, count] = replies[n]!;
      return { key: i.key, windowStart: Number(start), count: Math.max(0, Number(count)) };
    });
  }

  /** Nothing to do: every key expires with its window. */
  async prune(): Promise<void> {}

  async close(): Promise<void> {
    if (this.client.isOpen) await this.client.close();
    else this.client.destroy();
  }
}
