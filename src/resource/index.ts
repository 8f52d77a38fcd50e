/**
 * Token verification for resource APIs, for Tessera's own routes and for other Node services that
 * share Tessera's database: public keys and revocations are read from it and kept current through
 * the change log, so a revoked token, a deleted principal or a revoked secret is refused within one
 * poll interval — with no master key and no call to Tessera on the request path.
 *
 *   const verifier = await openResourceVerifier({ databaseUrl, baseUrl, tenantDomain });
 *   const decision = await verifier.authorize(req.headers.authorization, 'monitors_read');
 *   if (!decision.ok) return res.writeHead(decision.status, { 'www-authenticate': bearerChallenge(decision.reason, 'monitors_read') }).end();
 */
import { ChangeFeed, followChanges } from '../core/change-feed.ts';
import { systemClock, type Clock } from '../core/clock.ts';
import { Directory } from '../core/directory.ts';
import { RevocationState } from '../core/tokens/revocation-state.ts';
import { AccessTokenVerifier } from '../core/tokens/verifier.ts';
import { SigningKeys } from '../core/signing-keys.ts';
import { openStorage } from '../storage/sql/open.ts';
import { bearerChallenge, ResourceAuthenticator, type RefusalReason, type ResourceDecision } from './authenticator.ts';

export { bearerChallenge, ResourceAuthenticator, type RefusalReason, type ResourceDecision };

export interface ResourceVerifierOptions {
  databaseUrl: string;
  /** Tessera's BASE_URL: tokens must come from its tenant realms or from the site issuer (integration clients). */
  baseUrl: string;
  tenantDomain: string;
  /** Leeway for exp/nbf, seconds (default 30). */
  clockSkew?: number;
  /** Change-log poll interval, ms (default 200). */
  pollInterval?: number;
  clock?: Clock;
  onError?: (err: unknown) => void;
}

export interface ResourceVerifier {
  authorize(authorization: string | undefined, scope: string, tenantId?: string): Promise<ResourceDecision>;
  close(): Promise<void>;
}

export async function openResourceVerifier(options: ResourceVerifierOptions): Promise<ResourceVerifier> {
  const clock = options.clock ?? systemClock;
  const skew = options.clockSkew ?? 30;
  const storage = await openStorage(options.databaseUrl);
  const horizon = (3600 + skew) * 1000;
  const keys = new SigningKeys(undefined, clock, horizon);
  const state = new RevocationState();
  const directory = new Directory(storage, clock);
  const feed = new ChangeFeed(storage.changes, options.pollInterval ?? 200, options.onError ?? (() => undefined));
  followChanges(feed, { directory, state, keys, stores: storage, clock, horizonMs: horizon });
  await feed.mark(); // before loading: what commits from here on is replayed by the feed, not missed
  await keys.load(storage);
  state.load(await storage.revocations.listLive(clock.now()));
  await feed.start();
  const authenticator = new ResourceAuthenticator({
    verifier: new AccessTokenVerifier(keys, state, clock, skew),
    directory,
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    tenantDomain: options.tenantDomain,
  });
  return {
    authorize: (authorization, scope, tenantId) => authenticator.authorize(authorization, scope, tenantId),
    async close() {
      await feed.stop();
      await storage.close();
    },
  };
}
