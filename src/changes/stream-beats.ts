import type { StoreScope } from '../config/app-config';

/**
 * When a change stream that just wrote writes again. Each scope (one store, or every store)
 * beats every `linger` ms at an offset of its own, and a stream that wrote waits for its scope's
 * next beat: never longer than `linger`, as a plain linger would, but the streams of a scope
 * (a store's tills and displays, the central systems) then wake together, read the same pages
 * and write the same bytes, which ChangesService builds once for all of them. The offsets spread
 * the scopes' beats over the interval, so that thousands of streams do not all write at one moment.
 */

/** A name for a scope of one store or of every store; none for another set of stores. */
export function scopeKey(scope: StoreScope): string | undefined {
  return scope === '*' ? '*' : scope.length === 1 ? scope[0] : undefined;
}

/** Where in each interval of `linger` ms the scope named `key` beats (a hash of the name). */
export function beatOffset(key: string, linger: number): number {
  let offset = 0;
  for (let index = 0; index < key.length; index += 1) {
    offset = (offset * 31 + key.charCodeAt(index)) % linger;
  }
  return offset;
}

/** Milliseconds from `now` to the next beat of `scope`: more than 0, at most `linger`. */
export function untilNextBeat(scope: StoreScope, linger: number, now: number): number {
  return linger - ((now - beatOffset(scopeKey(scope) ?? '', linger)) % linger);
}
