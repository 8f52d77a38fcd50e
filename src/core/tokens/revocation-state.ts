import type { RevocationKind, RevocationRecord } from '../stores.ts';

/**
 * The node's in-memory view of revoked tokens and grants. Filled from the revocations table at
 * start-up and kept current by the change feed, so a revocation check costs two Map lookups.
 */
export class RevocationState {
  private readonly jtis = new Map<string, number>();
  private readonly grants = new Map<string, number>();

  add(kind: RevocationKind, value: string, pruneAfter: number): void {
    (kind === 'jti' ? this.jtis : this.grants).set(value, pruneAfter);
  }

  /** Applies a change-log entry `{kind}:{value}` (see RevocationService.record). */
  hear(key: string, pruneAfter: number): void {
    const colon = key.indexOf(':');
    const kind = key.slice(0, colon);
    if (kind === 'jti' || kind === 'grant') this.add(kind, key.slice(colon + 1), pruneAfter);
  }

  load(records: RevocationRecord[]): void {
    for (const r of records) this.add(r.kind, r.value, r.pruneAfter);
  }

  /** A token is revoked when its jti is, or when the grant its jti names is. */
  isRevoked(jti: string): boolean {
    if (this.jtis.has(jti)) return true;
    const dot = jti.indexOf('.');
    return dot > 0 && this.grants.has(jti.slice(0, dot));
  }

  isGrantRevoked(grantId: string): boolean {
    return this.grants.has(grantId);
  }

  prune(now: number): void {
    for (const map of [this.jtis, this.grants]) for (const [k, until] of map) if (until < now) map.delete(k);
  }
}

/** The grant a token belongs to, from its jti (`{grantId}.{nonce}`). */
export const grantOf = (jti: string): string => jti.slice(0, Math.max(0, jti.indexOf('.')));
