/**
 * The two cases that load minted credentials, the same on both servers: the refresh grant and the
 * code exchange of an integration client (HTTP Basic). Each mints what its run needs right before
 * it, checks one request by hand, and writes the rest to a file for load.ts.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { refreshBody, SITE_CLIENT, type MintedCode } from './common.ts';
import type { Case } from './servers.ts';
import { FORM, post, tokenFormat } from './wire.ts';

/** An integration client of a server, and how to mint credentials for it (one authorization/grant each). */
export interface Site {
  tokenUrl: string;
  /** Its Basic authorization header. */
  auth: string;
  /** Where the minted files go (removed with the server). */
  dir: string;
  refreshTokens(count: number): Promise<string[]>;
  codes(count: number): Promise<MintedCode[]>;
}

/** How much a run of each minted case needs (run.ts works it out from duration and connections). */
export interface Demand {
  /** Chains each connection follows in turn. */
  chainsPerConnection: number;
  /** Refresh tokens to mint, each the head of a chain. */
  refreshChains: number;
  /** Codes to mint, each exchanged once. */
  codes: number;
}

/** Both must be in the body of a good answer: the new access token and the new refresh token. */
const EXPECT = ['"access_token":"', '"refresh_token":"'];

const codeBody = (c: MintedCode) =>
  new URLSearchParams({ grant_type: 'authorization_code', code: c.code, redirect_uri: SITE_CLIENT.redirectUri, code_verifier: c.verifier }).toString();

/** Posts one token request by hand; throws unless it answers 200 with an access token and a refresh token. */
async function tokens(site: Site, body: string, what: string): Promise<{ access: string; refresh: string }> {
  const r = await post(site.tokenUrl, site.auth, body);
  const { access_token: access, refresh_token: refresh } = r.json;
  if (r.status !== 200 || typeof access !== 'string' || typeof refresh !== 'string') throw new Error(`${what} answered ${r.status} ${r.text}`);
  return { access, refresh };
}

async function refreshCase(site: Site, demand: Demand): Promise<Case> {
  const heads = await site.refreshTokens(demand.refreshChains + 1);
  // By hand: a refresh rotates (another token comes back), and that token refreshes in turn.
  const head = heads.pop()!;
  const first = await tokens(site, refreshBody(head), 'a refresh');
  const second = await tokens(site, refreshBody(first.refresh), 'a refresh with the rotated token');
  if (first.refresh === head || second.refresh === first.refresh) throw new Error('the refresh token did not rotate');
  const file = join(site.dir, 'refresh_token.json');
  await writeFile(file, JSON.stringify(heads));
  return {
    url: site.tokenUrl,
    headers: { authorization: site.auth, 'content-type': FORM },
    body: { kind: 'refresh-chains', file, perConnection: demand.chainsPerConnection },
    expect: EXPECT,
    tokenFormat: tokenFormat(second.access),
  };
}

async function codeCase(site: Site, demand: Demand): Promise<Case> {
  const codes = await site.codes(demand.codes + 1);
  const checked = await tokens(site, codeBody(codes.pop()!), 'a code exchange');
  const file = join(site.dir, 'authorization_code.json');
  await writeFile(file, JSON.stringify(codes.map(codeBody)));
  return {
    url: site.tokenUrl,
    headers: { authorization: site.auth, 'content-type': FORM },
    body: { kind: 'once', file },
    expect: EXPECT,
    tokenFormat: tokenFormat(checked.access),
  };
}

/** Mints for, checks and describes a minted case. */
export function siteCase(site: Site, kase: 'refresh_token' | 'authorization_code', demand: Demand): Promise<Case> {
  return kase === 'refresh_token' ? refreshCase(site, demand) : codeCase(site, demand);
}
