import type { Clock } from './clock.ts';
import type { Directory } from './directory.ts';
import type { SigningKeys } from './signing-keys.ts';
import type { RevocationState } from './tokens/revocation-state.ts';
import type { ChangeRecord, ChangeStore, Stores } from '../storage/types.ts';

/** Kinds of change other nodes must hear about; `key` says which object changed. */
export type ChangeKind = 'tenant' | 'principal' | 'revocation' | 'signing_key' | 'user' | 'api_key';

export type ChangeHandler = (change: ChangeRecord) => void | Promise<void>;

/** How long a hole in the sequence is waited for (a concurrent transaction may still commit it). */
const GAP_WAIT_MS = 5000;

/**
 * Every node reads the shared change log every `intervalMs` and hands each new entry to the
 * handlers (cache invalidation, revocations, key reloads). Writes from any process — another node
 * or the CLI — are therefore seen within one interval. Sequence holes left by transactions still
 * in flight (PostgreSQL allots sequence values before commit) are re-read until filled or stale.
 */
export class ChangeFeed {
  private watermark = 0;
  private readonly seen = new Set<number>();
  private readonly gaps = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly handlers: ChangeHandler[] = [];

  constructor(
    private readonly store: ChangeStore,
    private readonly clock: Clock,
    private readonly intervalMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  on(handler: ChangeHandler): void {
    this.handlers.push(handler);
  }

  async start(): Promise<void> {
    this.watermark = await this.store.latestSeq();
    this.timer = setInterval(() => void this.poll(), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Reads and dispatches what is new; concurrent calls share one read. */
  poll(): Promise<void> {
    this.running ??= this.readOnce()
      .catch(this.onError)
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private async readOnce(): Promise<void> {
    let cursor = this.gaps.size > 0 ? Math.min(this.watermark, ...[...this.gaps.keys()].map((s) => s - 1)) : this.watermark;
    for (;;) {
      const batch = await this.store.since(cursor, 500);
      const fresh = batch.filter((c) => !this.seen.has(c.seq) && (c.seq > this.watermark || this.gaps.has(c.seq)));
      for (const change of fresh) await this.dispatch(change);
      this.advance(batch);
      if (batch.length < 500) break;
      cursor = batch[batch.length - 1]!.seq;
    }
    const now = this.clock.now();
    for (const [seq, since] of this.gaps) if (now - since > GAP_WAIT_MS) this.gaps.delete(seq);
    const oldestGap = this.gaps.size > 0 ? Math.min(...this.gaps.keys()) : Infinity;
    for (const seq of this.seen) if (seq < oldestGap && seq <= this.watermark) this.seen.delete(seq);
  }

  private advance(batch: ChangeRecord[]): void {
    const now = this.clock.now();
    for (const c of batch) {
      this.gaps.delete(c.seq);
      if (c.seq > this.watermark) {
        for (let s = this.watermark + 1; s < c.seq; s++) if (!this.seen.has(s)) this.gaps.set(s, now);
        this.watermark = c.seq;
      }
      this.seen.add(c.seq);
    }
  }

  private async dispatch(change: ChangeRecord): Promise<void> {
    this.seen.add(change.seq);
    for (const h of this.handlers) await h(change);
  }
}

/**
 * What a node keeps in memory and how the change log updates it: cached tenants, principals and
 * integration clients are dropped, revocations join the revocation state (kept for `horizonMs`), keys are reloaded.
 * Shared by the server and by resource verifiers in other services.
 */
export function followChanges(
  feed: ChangeFeed,
  node: {
    directory: Directory;
    state: RevocationState;
    keys: SigningKeys;
    stores: Pick<Stores, 'signingKeys'>;
    clock: Clock;
    horizonMs: number;
    /** The server's integration-client cache (resource verifiers have none). */
    clients?: { invalidate(clientId: string): void };
  },
): void {
  feed.on(async (change) => {
    if (change.kind === 'principal') node.directory.invalidatePrincipal(change.key);
    else if (change.kind === 'integration_client') node.clients?.invalidate(change.key);
    else if (change.kind === 'tenant') node.directory.invalidateTenant(change.key);
    else if (change.kind === 'revocation') node.state.hear(change.key, node.clock.now() + node.horizonMs);
    else if (change.kind === 'signing_key') await node.keys.load(node.stores);
  });
}
