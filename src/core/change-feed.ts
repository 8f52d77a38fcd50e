import type { Clock } from './clock.ts';
import type { Directory } from './directory.ts';
import type { SigningKeys } from './signing-keys.ts';
import type { RevocationState } from './tokens/revocation-state.ts';
import type { ChangeRecord, ChangeStore, Stores } from './stores.ts';

/** Kinds of change other nodes must hear about; `key` says which object changed. */
export type ChangeKind = 'tenant' | 'principal' | 'revocation' | 'signing_key' | 'user' | 'api_key' | 'app' | 'integration_client' | 'app_installation';

export type ChangeHandler = (change: ChangeRecord) => void | Promise<void>;

/**
 * Every node reads the shared change log every `intervalMs` and hands each new entry to the
 * handlers (cache invalidation, revocations, key reloads). Writes from any process — another node
 * or the CLI — are therefore seen within one interval. The store guarantees that a sequence number
 * becomes visible only after every smaller one is visible or rolled back (see the SQL change
 * store), so the feed simply follows a watermark: no hole can fill in later.
 *
 * A node calls `mark()` before it loads the state the feed keeps current (revocations, keys), so a
 * change committed between that load and `start()` is replayed rather than missed; handlers are
 * idempotent.
 */
export class ChangeFeed {
  private watermark: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly handlers: ChangeHandler[] = [];

  constructor(
    private readonly store: ChangeStore,
    private readonly intervalMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  on(handler: ChangeHandler): void {
    this.handlers.push(handler);
  }

  /** Records where the log stands now: the feed will deliver every change after this point. */
  async mark(): Promise<void> {
    this.watermark = await this.store.latestSeq();
  }

  /** Polls from the mark (taken now if `mark()` was not called). */
  async start(): Promise<void> {
    if (this.watermark === undefined) await this.mark();
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
    this.watermark ??= await this.store.latestSeq();
    for (;;) {
      const batch = await this.store.since(this.watermark, 500);
      for (const change of batch) {
        for (const h of this.handlers) await h(change);
        this.watermark = change.seq;
      }
      if (batch.length < 500) break;
    }
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
