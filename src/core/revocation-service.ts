import type { Clock } from './clock.ts';
import type { RevocationState } from './tokens/revocation-state.ts';
import type { RevocationKind, Stores } from './stores.ts';

/**
 * Writes revocations: a row (source of truth, pruned once nothing it refuses can still be valid)
 * plus a change-log entry so every node's RevocationState learns of it within one poll; the local
 * state is updated at once.
 */
export class RevocationService {
  constructor(
    private readonly state: RevocationState,
    private readonly clock: Clock,
    /** Longest access-token lifetime plus skew, ms. */
    private readonly horizonMs: number,
  ) {}

  /** Inside the caller's transaction; call `apply` after it commits. */
  async record(tx: Stores, kind: RevocationKind, value: string, tenantId: string | null, pruneAfter?: number): Promise<() => void> {
    const now = this.clock.now();
    const until = pruneAfter ?? now + this.horizonMs;
    await tx.revocations.insert({ kind, value, tenantId, revokedAt: now, pruneAfter: until });
    await tx.changes.append({ kind: 'revocation', key: `${kind}:${value}`, at: now });
    return () => this.state.add(kind, value, until);
  }

  /** Forgets revocations that can no longer refuse a live token. */
  prune(now: number): void {
    this.state.prune(now);
  }
}
