import { ApiError } from '../errors/api-error';

const PREFIX = 'c1.';

/** The issue of a `cursor` that is not one text (given twice, or as `cursor[x]=`). */
export const CURSOR_GIVEN_ONCE = 'must be given once, as a page returned it (nextCursor)';

/**
 * Opaque pagination cursors: clients pass back what they were given and never build one. The
 * value inside is the sort key of the last item returned (keyset pagination).
 */
export function encodeCursor(position: string | number): string {
  return PREFIX + Buffer.from(JSON.stringify(position), 'utf8').toString('base64url');
}

export function decodeCursor<T extends string | number>(cursor: string | undefined, isValid: (value: unknown) => value is T): T | undefined {
  if (cursor === undefined) {
    return undefined;
  }
  try {
    if (cursor.startsWith(PREFIX) && cursor.length <= 256) {
      const value: unknown = JSON.parse(Buffer.from(cursor.slice(PREFIX.length), 'base64url').toString('utf8'));
      // Only a cursor exactly as this API writes it: stray characters are not ignored.
      if (isValid(value) && encodeCursor(value) === cursor) {
        return value;
      }
    }
  } catch {
    // falls through to the error below
  }
  throw ApiError.invalidField('cursor', 'is not a cursor this API returned');
}
