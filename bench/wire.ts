/** The few HTTP helpers the start-up checks use (the load itself is autocannon's). */

export const FORM = 'application/x-www-form-urlencoded';

export const basic = (id: string, secret: string) =>
  'Basic ' + Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64');

export async function post(url: string, authorization: string, body: string): Promise<{ status: number; text: string; json: Record<string, unknown> }> {
  const res = await fetch(url, { method: 'POST', headers: { authorization, 'content-type': FORM }, body });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // reported by the caller with the raw text
  }
  return { status: res.status, text, json };
}

/** How an access token looks: "ES256 JWT (typ at+jwt)", "opaque". */
export function tokenFormat(token: string): string {
  const parts = token.split('.');
  if (parts.length !== 3) return 'opaque';
  try {
    const h = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString()) as { alg?: string; typ?: string };
    return `${h.alg ?? '?'} JWT${h.typ ? ` (typ ${h.typ})` : ''}`;
  } catch {
    return 'opaque';
  }
}
