// @ts-nocheck
// 
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ValidationError } from './errors';

/**
 * Pagination cursors that callers can hold but not read, forge or reuse elsewhere.
 *
 * A cursor is `base64url(JSON position) "." base64url(HMAC-SHA256)`. The MAC covers the position
 * and the listing it belongs to (who asked, with which filters), which is not in the cursor at
 * all: a cursor replayed by another caller, or with other filters, fails verification exactly like
 * a forged one. The position is the store's own (DynamoDB's LastEvaluatedKey); since only the
 * broker can make a valid MAC, the store is never handed a key a caller chose.
 */
export class PageCursors {
  constructor(private readonly key: Buffer) {
    if (key.length < 32) throw new Error('a cursor key has at least 32 bytes');
  }

  encode(position: Record<string, unknown>, listing: string): string {
    const payload = Buffer.from(JSON.stringify(position), 'utf8').toString('base64url');
    return `${payload}.${this.mac(payload, listing).toString('base64url')}`;
  }

  /** The position in `cursor`, or ValidationError `invalid_cursor` (HTTP 400). */
  decode(cursor: string, listing: string): Record<string, unknown> {
    const invalid = () => new ValidationError('invalid_cursor', 'The cursor is not one this broker issued for this listing; start again without a cursor.', { details: { field: 'cursor' } });
    const match = /^([A-Za-z0-9_-]{1,4096})\.([A-Za-z0-9_-]{43})$/.exec(cursor);
    if (!match) throw invalid();
    const [, payload = '', mac = ''] = match;
    const given = Buffer.from(mac, 'base64url');
    const expected = this.mac(payload, listing);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();
    const position: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    if (typeof position !== 'object' || position === null || Array.isArray(position)) throw invalid();
    return position as Record<string, unknown>;
  }

  private mac(payload: string, listing: string): Buffer {
    return createHmac('sha256', this.key).update(`nocreds-cursor-v1\n${listing}\n${payload}`).digest();
  }
}
