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

/**
 * The beats themselves: one timer per scope and beat, however many streams wait for it. A timer
 * and an abort listener per waiting stream cost every stream's every write two allocations and a
 * listener walk, thousands a second with a chain's streams open. Nothing cancels a wait: a stream
 * whose client left notices at the beat, at most `linger` later; `stop` (shutdown) ends every wait.
 */
export class StreamBeats {
  private readonly waits = new Map<string, { readonly at: number; readonly done: Promise<void>; readonly release: () => void }>();
  private unnamed = 0;

  constructor(
    private readonly linger: number,
    private readonly stop: AbortSignal,
  ) {
    stop.addEventListener('abort', () => [...this.waits.values()].forEach((wait) => wait.release()), { once: true });
  }

  /** Resolves at `scope`'s next beat after `now`, or when `stop` aborts. */
  next(scope: StoreScope, now: number): Promise<void> {
    if (this.stop.aborted) {
      return Promise.resolve();
    }
    const delay = untilNextBeat(scope, this.linger, now);
    const at = now + delay;
    // A scope without a name (several stores) beats alone, under a name no store can have.
    const key = scopeKey(scope) ?? `\n${(this.unnamed += 1)}`;
    const shared = this.waits.get(key);
    if (shared !== undefined && shared.at === at) {
      return shared.done;
    }
    let release!: () => void;
    const done = new Promise<void>((resolve) => (release = resolve));
    const timer = setTimeout(() => wait.release(), delay);
    const wait = {
      at,
      done,
      release: () => {
        clearTimeout(timer);
        if (this.waits.get(key) === wait) {
          this.waits.delete(key);
        }
        release();
      },
    };
    this.waits.set(key, wait);
    return done;
  }
}
