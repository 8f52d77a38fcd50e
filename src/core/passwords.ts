import { hash, verify } from '@node-rs/argon2';
import { randomBytes } from 'node:crypto';
import { base62 } from './ids.ts';

/**
 * User passwords (never principals' secrets): argon2id, 8–128 characters taken exactly as typed,
 * no composition rules, common passwords refused (ASVS 6.2).
 */
const ARGON2ID = 2;
const OPTIONS = { algorithm: ARGON2ID, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 128;

const COMMON = new Set(
  (
    'password password1 password12 password123 password1234 passw0rd p@ssw0rd p@ssword 12345678 123456789 1234567890 ' +
    '87654321 11111111 00000000 12341234 11223344 qwertyui qwerty12 qwerty123 qwertyuiop 1q2w3e4r 1qaz2wsx zaq12wsx ' +
    'abcd1234 abc12345 iloveyou sunshine princess football baseball welcome1 welcome123 letmein1 trustno1 superman ' +
    'starwars master123 dragon12 monkey12 shadow12 michael1 jennifer computer internet whatever changeme changeme1 ' +
    'administrator admin123 admin1234 secret123 qazwsxedc asdfghjk asdfasdf zxcvbnm1 12qwaszx aaaaaaaa 123123123 ' +
    'q1w2e3r4 q1w2e3r4t5 1q2w3e4r5t letmein123 passpass testtest test1234 tessera123 loveyou1 football1 baseball1'
  ).split(' '),
);

/** A word as compared with the account's own words: lower case, without spaces and the separators of addresses and names. */
const squash = (word: string): string => word.toLowerCase().replace(/[\s.@_+-]/gu, '');

/**
 * A reason the password is refused, or undefined when it is acceptable. Besides common passwords,
 * the account's own words are refused (ASVS 6.2.11): the e-mail address, its name part and its
 * domain, and the tenant's name — compared without case, spaces or separators, so that
 * `Carol Smith` is carol.smith@… and `demo test` is the domain demo.test.
 */
export function passwordProblem(password: string, context: { email?: string; tenantName?: string | undefined } = {}): string | undefined {
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH) return `The password must have at least ${MIN_PASSWORD_LENGTH} characters.`;
  if (length > MAX_PASSWORD_LENGTH) return `The password may have at most ${MAX_PASSWORD_LENGTH} characters.`;
  if (COMMON.has(password.toLowerCase())) return 'This password is too common; choose another.';
  const typed = squash(password);
  if (context.email !== undefined) {
    const at = context.email.lastIndexOf('@');
    const words = [context.email, context.email.slice(0, at), context.email.slice(at + 1)].map(squash);
    if (words.includes(typed)) return 'The password must not be your e-mail address, its name part or its domain.';
  }
  if (context.tenantName !== undefined && typed === squash(context.tenantName)) return "The password must not be the tenant's name.";
  return undefined;
}

/** One-time generated passwords (demo admin, `tenant create`, `user create`): 24 base62 characters. */
const GENERATED_LENGTH = 24;
const GENERATED = new RegExp(`^[0-9A-Za-z]{${GENERATED_LENGTH}}$`);
export const generatePassword = (): string => base62(randomBytes(18)).slice(0, GENERATED_LENGTH);

/**
 * The password to check for an account whose password was generated: pasted with spaces around it,
 * it is still the generated one (which has none). A chosen password is taken exactly as typed.
 */
export function presentedPassword(password: string, generated: boolean): string {
  if (!generated) return password;
  const trimmed = password.trim();
  return GENERATED.test(trimmed) ? trimmed : password;
}

export const hashPassword = (password: string): Promise<string> => hash(password, OPTIONS);

export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  try {
    return await verify(stored, password);
  } catch {
    return false;
  }
}

/** A hash to verify against when the account does not exist, so both cases cost the same (CS-8). */
let dummy: Promise<string> | undefined;
export const dummyHash = (): Promise<string> => (dummy ??= hashPassword(base62(randomBytes(16))));
