import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { Clock } from '../common/clock';
import type { StoredResponse } from './stored-response';

export interface CachedOutcome {
  readonly fingerprint: string;
  readonly response: StoredResponse;
  readonly expiresAt: number;
}

/**
 * In-process copy of recently stored outcomes, for the fast path. Bounded: the least recently
 * used entry goes first. Authoritative records stay in the database, so a miss costs only a
 * trip through the queue, never correctness.
 */
@Injectable()
export class IdempotencyCache {
  private readonly entries = new Map<string, CachedOutcome>();
  private readonly maxEntries: number;
  /**
   * Walks the entries oldest first, evicting as it goes. A Map keeps deleted slots until it is
   * rehashed, so a fresh `keys().next()` per eviction would skip thousands of them each time;
   * one long-lived iterator never revisits them. (Entries set after it started are still visited:
   * a used entry moves to the end and is evicted last.)
   */
  private oldestFirst: Iterator<string> = this.entries.keys();

  constructor(
    config: AppConfig,
    private readonly clock: Clock,
  ) {
    this.maxEntries = config.idempotencyCacheSize;
  }

  get size(): number {
    return this.entries.size;
  }

  get(clientId: string, key: string): CachedOutcome | undefined {
    const id = cacheKey(clientId, key);
    const entry = this.entries.get(id);
    if (entry === undefined) {
      return undefined;
    }
    this.entries.delete(id);
    if (entry.expiresAt <= this.clock.now().getTime()) {
      return undefined;
    }
    this.entries.set(id, entry);
    return entry;
  }

  remember(clientId: string, key: string, outcome: CachedOutcome): void {
    if (this.maxEntries === 0) {
      return;
    }
    const id = cacheKey(clientId, key);
    this.entries.delete(id);
    this.entries.set(id, outcome);
    while (this.entries.size > this.maxEntries) {
      let oldest = this.oldestFirst.next();
      if (oldest.done === true) {
        this.oldestFirst = this.entries.keys();
        oldest = this.oldestFirst.next();
      }
      this.entries.delete(oldest.value as string);
    }
  }
}

/** Keys are scoped to the client: one API key can never hit another's entries. */
function cacheKey(clientId: string, key: string): string {
  return `${clientId}\u0000${key}`;
}
