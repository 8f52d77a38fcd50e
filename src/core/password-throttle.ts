import { createHmac } from 'node:crypto';
import { isIPv6 } from 'node:net';
import type { Clock } from './clock.ts';
import { TooManyRequests } from './errors.ts';
import type { FailureLimiter } from './rate-limiter.ts';
import type { SignInPlaceStore } from './stores.ts';

/**
 * The client a failure is counted against: its IP address, or for IPv6 its /64 network (one host
 * commonly holds a whole /64, so counting single IPv6 addresses would give it 2^64 buckets).
 */
export function clientKey(ip: string): string {
  if (!isIPv6(ip)) return ip;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  return ipv6Groups(ip).slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':') + '::/64';
}

/** The eight 16-bit groups of an IPv6 address (zone dropped, `::` expanded, a trailing dotted quad as two groups). */
function ipv6Groups(ip: string): string[] {
  let text = ip.toLowerCase().replace(/%.*$/, '');
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head ? head.split(':') : [];
  if (tail === undefined) return left;
  const right = tail ? tail.split(':') : [];
  return [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
}

/** How long a place (account and client) that signed in is exempt from that account's all-clients budget. */
const KNOWN_PLACE_MS = 30 * 24 * 3600 * 1000;

export interface PasswordLimits {
  /** Failures per account from one client: brute force from one place is stopped early. */
  perAccountFromClient: FailureLimiter;
  /** Failures per client, whatever the account: one client spraying many accounts. */
  perClient: FailureLimiter;
  /**
   * Failures per account from all clients together: bounds distributed guessing. Clients that
   * signed in to the account before are exempt, so strangers cannot lock its owner out.
   */
  perAccount: FailureLimiter;
}

export type Attempt = { pair: string; client: string; account: string };

/**
 * Throttles the checks of a user's password (sign-in, and the current password of a password
 * change), counting failures only; every window lapses by itself (RL-1). The places that signed in
 * are kept in the database (`SignInPlaceStore`), so the owner's exemption from the account's
 * all-clients budget holds on every node and across restarts; it is read only while that budget is
 * spent.
 */
export class PasswordThrottle {
  constructor(
    private readonly clock: Clock,
    private readonly limits: PasswordLimits,
    private readonly places: SignInPlaceStore,
    /** Keys the place hashes: the table holds neither e-mails nor addresses. */
    private readonly key: Buffer,
  ) {}

  private placeHash(a: Attempt): string {
    return createHmac('sha256', this.key).update(`sign-in-place:${a.pair}`).digest('hex');
  }

  /**
   * Refuses (429) when a counter is over its limit, else counts the attempt as failed before the
   * slow hash runs: parallel guesses cannot all slip under the limit while the first ones are still
   * being checked. `succeeded` takes it back.
   */
  async begin(email: string, ip: string): Promise<Attempt> {
    const client = clientKey(ip);
    const a: Attempt = { pair: `${email}\n${client}`, client, account: email };
    // While the account's budget is spent, only a place that signed in to it before may go on.
    const known = this.limits.perAccount.retryAfter(a.account) > 0 && this.limits.perAccountFromClient.retryAfter(a.pair) === 0 && this.limits.perClient.retryAfter(a.client) === 0
      ? await this.places.isKnown(this.placeHash(a), this.clock.now())
      : false;
    // After the store answered, the counters are read again: they may have moved meanwhile.
    this.refuseOverLimit(a, known);
    this.limits.perAccountFromClient.fail(a.pair);
    this.limits.perClient.fail(a.client);
    this.limits.perAccount.fail(a.account);
    return a;
  }

  private refuseOverLimit(a: Attempt, known: boolean): void {
    const { perAccountFromClient, perClient, perAccount } = this.limits;
    const wait = Math.max(perAccountFromClient.retryAfter(a.pair), perClient.retryAfter(a.client), known ? 0 : perAccount.retryAfter(a.account));
    if (wait > 0) throw new TooManyRequests(wait);
  }

  /**
   * The password was right: the failure counted in advance is taken back and the place is known
   * (through `places`: a transaction's store, so that it is remembered with the session it opened).
   */
  async succeeded(a: Attempt, places: SignInPlaceStore = this.places): Promise<void> {
    this.limits.perAccountFromClient.forgive(a.pair);
    this.limits.perClient.forgive(a.client);
    this.limits.perAccount.forgive(a.account);
    await places.remember(this.placeHash(a), this.clock.now() + KNOWN_PLACE_MS);
  }
}
