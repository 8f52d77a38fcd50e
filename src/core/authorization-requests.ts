import { timingSafeEqual } from 'node:crypto';
import type { Clock } from './clock.ts';
import { randomToken } from './ids.ts';
import type { AuthorizationRequestRecord, Stores } from './stores.ts';

/**
 * Pending authorization requests: what `GET /oauth2/v1/authorize` validated, kept server-side until
 * the consent form answers it (CS-1, CS-2). The browser holds only a random request id; the store
 * holds its MAC under the session key, bound to the session's id hash, for ten minutes. The consent
 * form's CSRF token is a MAC over the request id and the session, and `answer` (one atomic
 * statement) makes it single use.
 */

export const REQUEST_TTL_MS = 10 * 60 * 1000;

/** A pending request whose tenant is chosen (every stored request has one). */
export type PendingRequest = AuthorizationRequestRecord & { tenantId: string };

/** What the consent page's form carries: nothing else is read from it. */
export interface ConsentForm {
  requestId: string;
  csrf: string;
}

/** Thrown inside a transaction when the request was answered meanwhile: the transaction rolls back. */
export class AlreadyAnswered extends Error {
  override readonly name = 'AlreadyAnswered';
}

const sameText = (a: string, b: string): boolean => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

export class PendingRequests {
  constructor(
    private readonly deps: {
      stores: Pick<Stores, 'authorizationRequests'>;
      clock: Clock;
      /** The session key's MAC (`SessionService.mac`). */
      mac(purpose: string, value: string): string;
    },
  ) {}

  private idHash(requestId: string): string {
    return this.deps.mac('authorization-request', requestId);
  }

  private csrf(requestId: string, sessionHash: string): string {
    return this.deps.mac('consent-csrf', `${requestId}.${sessionHash}`);
  }

  /** Stores a validated request for the session and returns the consent form's fields. */
  async create(r: Omit<PendingRequest, 'idHash' | 'createdAt' | 'expiresAt' | 'answeredAt'>): Promise<ConsentForm> {
    const requestId = randomToken(256);
    const now = this.deps.clock.now();
    await this.deps.stores.authorizationRequests.insert({ ...r, idHash: this.idHash(requestId), createdAt: now, expiresAt: now + REQUEST_TTL_MS, answeredAt: null });
    return { requestId, csrf: this.csrf(requestId, r.sessionHash) };
  }

  /**
   * The live, unanswered request of this session that the form names, when its CSRF token is the
   * one bound to the request and the session; undefined otherwise (missing, foreign, expired or
   * replayed: CS-2).
   */
  async open(form: ConsentForm, sessionHash: string): Promise<PendingRequest | undefined> {
    if (form.requestId.length !== 43 || form.csrf.length !== 43) return undefined;
    if (!sameText(form.csrf, this.csrf(form.requestId, sessionHash))) return undefined;
    const r = await this.deps.stores.authorizationRequests.find(this.idHash(form.requestId));
    if (!r || r.tenantId === null || r.answeredAt !== null || r.expiresAt <= this.deps.clock.now()) return undefined;
    if (!sameText(r.sessionHash, sessionHash)) return undefined;
    return r as PendingRequest;
  }

  /** Marks the request answered inside the caller's transaction; throws `AlreadyAnswered` when another answer won. */
  async answer(tx: Pick<Stores, 'authorizationRequests'>, requestId: string, at: number): Promise<void> {
    if (!(await tx.authorizationRequests.answer(this.idHash(requestId), at))) throw new AlreadyAnswered();
  }
}

/**
 * An authorization response URL (RFC 6749 §4.1.2, §4.1.2.1; RFC 9207): the registered redirect URI
 * with its own query kept, the parameters appended by a URL encoder (never concatenated raw, AZ-8),
 * no fragment.
 */
export function authorizationResponseUrl(redirectUri: string, params: ReadonlyArray<readonly [string, string]>): string {
  const url = new URL(redirectUri);
  const added = new URLSearchParams(params.map(([k, v]) => [k, v])).toString();
  url.hash = '';
  url.search = url.search.length > 1 ? `${url.search}&${added}` : `?${added}`;
  return url.href;
}
