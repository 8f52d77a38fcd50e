import { InvalidRequest } from './errors.ts';

/** Longest accepted value per OAuth parameter (RL-4: refused before any lookup or hashing). */
const MAX_LENGTH: Record<string, number> = {
  grant_type: 64,
  client_id: 128,
  client_secret: 256,
  scope: 2048,
  state: 1024,
  redirect_uri: 2048,
  code: 256,
  // RFC 7636 allows 128; a verifier a little longer is a malformed one (invalid_grant, PK-2), a huge one is refused here.
  code_verifier: 256,
  // Room for an access token sent by mistake: it is answered invalid_grant (TK-4), still before any hashing.
  refresh_token: 4096,
  token: 8192,
  token_type_hint: 64,
};

/** Checks lengths of the parameters present; unknown parameters are capped at 8 KiB. */
export function checkParamLengths(params: Readonly<Record<string, string>>): void {
  for (const name of Object.keys(params)) {
    const max = MAX_LENGTH[name] ?? 8192;
    if (params[name]!.length > max) throw new InvalidRequest(`The ${name} parameter is too long (at most ${max} characters).`);
  }
}

export function requireParam(params: Readonly<Record<string, string>>, name: string): string {
  const value = params[name];
  if (value === undefined) throw new InvalidRequest(`The ${name} parameter is required.`);
  return value;
}
