import { createHmac, timingSafeEqual } from 'node:crypto';
import { badRequest } from './errors.ts';

/**
 * Opaque, tamper-evident paging cursors bound to the list they came from (tenant + collection):
 * a garbled, forged or foreign cursor is a 400, never a peek at another list (MG-4, MT-1).
 */
export class Cursors {
  constructor(private readonly key: Buffer) {}

  private mac(scope: string, body: string): Buffer {
    return createHmac('sha256', this.key).update(scope).update('\0').update(body).digest().subarray(0, 16);
  }

  encode(scope: string, position: unknown): string {
    const body = Buffer.from(JSON.stringify(position)).toString('base64url');
    return `${body}.${this.mac(scope, body).toString('base64url')}`;
  }

  decode<T>(scope: string, cursor: string): T {
    const [body, tag] = cursor.split('.');
    const given = Buffer.from(tag ?? '', 'base64url');
    if (!body || given.length !== 16 || !timingSafeEqual(given, this.mac(scope, body))) {
      throw badRequest('The cursor parameter is not a cursor of this list.');
    }
    return JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as T;
  }
}
