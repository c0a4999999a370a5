import fc from 'fast-check';
import type { AppConfig } from '../config/app-config';
import { Clock } from '../common/clock';
import { IdempotencyCache } from './idempotency-cache';

class FakeClock extends Clock {
  constructor(public time = 1_000_000) {
    super();
  }
  now(): Date {
    return new Date(this.time);
  }
}

const outcome = (body: string, expiresAt = 2_000_000) => ({ fingerprint: 'f', response: { status: 200, body }, expiresAt });

function cacheOf(size: number, clock = new FakeClock()): IdempotencyCache {
  return new IdempotencyCache({ idempotencyCacheSize: size } as AppConfig, clock);
}

describe('IdempotencyCache', () => {
  it('scopes entries to the client', () => {
    const cache = cacheOf(10);
    cache.remember('client-a', 'k1', outcome('a'));
    expect(cache.get('client-a', 'k1')?.response.body).toBe('a');
    expect(cache.get('client-b', 'k1')).toBeUndefined();
  });

  it('keeps at most the configured number of entries, evicting the least recently used', () => {
    const cache = cacheOf(2);
    cache.remember('c', 'k1', outcome('1'));
    cache.remember('c', 'k2', outcome('2'));
    cache.get('c', 'k1');
    cache.remember('c', 'k3', outcome('3'));
    expect(cache.size).toBe(2);
    expect(cache.get('c', 'k2')).toBeUndefined();
    expect(cache.get('c', 'k1')?.response.body).toBe('1');
    expect(cache.get('c', 'k3')?.response.body).toBe('3');
  });

  it('stays bounded under many distinct keys', () => {
    const cache = cacheOf(100);
    for (let index = 0; index < 10_000; index += 1) {
      cache.remember('c', `k${index}`, outcome('x'));
    }
    expect(cache.size).toBe(100);
  });

  it('evicts exactly as a reference LRU list over long random sequences of uses and new keys', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(fc.tuple(fc.boolean(), fc.nat(20)), { maxLength: 400 }), (size, operations) => {
        const cache = cacheOf(size);
        let reference: string[] = []; // least recently used first
        for (const [isGet, n] of operations) {
          const key = `k${n}`;
          if (isGet) {
            expect(cache.get('c', key) !== undefined).toBe(reference.includes(key));
            if (reference.includes(key)) {
              reference = [...reference.filter((other) => other !== key), key];
            }
          } else {
            cache.remember('c', key, outcome(key));
            reference = [...reference.filter((other) => other !== key), key].slice(-size);
          }
        }
        expect(cache.size).toBe(reference.length);
        // Reading every referenced key back finds it (reads refresh, so they cannot evict each other).
        reference.forEach((key) => expect(cache.get('c', key)?.response.body).toBe(key));
      }),
      { numRuns: 300 },
    );
  });

  it('forgets expired entries', () => {
    const clock = new FakeClock();
    const cache = cacheOf(10, clock);
    cache.remember('c', 'k1', outcome('1', clock.time + 1000));
    clock.time += 999;
    expect(cache.get('c', 'k1')).toBeDefined();
    clock.time += 1;
    expect(cache.get('c', 'k1')).toBeUndefined();
  });

  it('can be switched off with size 0', () => {
    const cache = cacheOf(0);
    cache.remember('c', 'k1', outcome('1'));
    expect(cache.get('c', 'k1')).toBeUndefined();
  });
});
