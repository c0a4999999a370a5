import { createHash, timingSafeEqual } from 'node:crypto';
import type { ApiKeyEntry } from '../../config/app-config';
import { Client } from './client';

interface RegisteredKey {
  readonly digest: Buffer;
  readonly client: Client;
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * Resolves a presented API key to its client. Comparing fixed-length digests with
 * timingSafeEqual, and always against every key, leaks neither a key's prefix nor which
 * key matched through response timing.
 */
export class ApiKeyRegistry {
  private readonly keys: readonly RegisteredKey[];
  /**
   * Keys that authenticated, by their text, so a working key is hashed and compared once rather
   * than on every request. Only right keys enter, so it never outgrows the configured keys; a hit
   * or a miss tells a guesser only whether the key is right, which the answer tells anyway.
   */
  private readonly authenticated = new Map<string, Client>();

  constructor(entries: readonly ApiKeyEntry[]) {
    this.keys = entries.map((entry) => {
      const digest = sha256(entry.key);
      // The idempotency scope and log identity: stable per key, useless for authenticating.
      const id = createHash('sha256').update('client-id:').update(digest).digest('hex').slice(0, 32);
      return { digest, client: new Client(id, entry.stores, entry.admin) };
    });
  }

  authenticate(presented: string | undefined): Client | undefined {
    if (presented === undefined || presented.length === 0 || presented.length > 256) {
      return undefined;
    }
    const known = this.authenticated.get(presented);
    if (known !== undefined) {
      return known;
    }
    const digest = sha256(presented);
    let match: Client | undefined;
    for (const key of this.keys) {
      if (timingSafeEqual(key.digest, digest)) {
        match = key.client;
      }
    }
    if (match !== undefined) {
      this.authenticated.set(presented, match);
    }
    return match;
  }
}
