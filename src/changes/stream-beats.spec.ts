import { beatOffset, scopeKey, untilNextBeat } from './stream-beats';

describe('stream beats', () => {
  const stores = Array.from({ length: 200 }, (_, index) => `store-${String(index + 1).padStart(4, '0')}`);

  it('waits more than nothing and at most the linger, from any moment', () => {
    for (const scope of [['store-0001'], '*', ['store-0001', 'store-0002']] as const) {
      for (let now = 1_700_000_000_000; now < 1_700_000_000_000 + 1000; now += 7) {
        const wait = untilNextBeat(scope, 250, now);
        expect(wait).toBeGreaterThan(0);
        expect(wait).toBeLessThanOrEqual(250);
      }
    }
  });

  it('wakes the streams of a scope together, whenever within the interval each of them wrote', () => {
    const start = 1_700_000_000_000;
    for (const scope of [['store-0042'], '*'] as const) {
      const beat = start + untilNextBeat(scope, 250, start);
      // Every moment from the previous beat up to (not including) this one leads to it.
      for (let now = beat - 250; now < beat; now += 1) {
        expect(now + untilNextBeat(scope, 250, now)).toBe(beat);
      }
      expect(beat + untilNextBeat(scope, 250, beat)).toBe(beat + 250);
    }
  });

  it("spreads the stores' beats over the interval", () => {
    const offsets = new Set(stores.map((store) => beatOffset(store, 250)));
    // 200 names into 250 slots: collisions happen, a pile-up on a few instants must not.
    expect(offsets.size).toBeGreaterThan(100);
    const halves = stores.filter((store) => beatOffset(store, 250) < 125).length;
    expect(halves).toBeGreaterThan(60);
    expect(halves).toBeLessThan(140);
  });

  it('names the scopes of one store and of every store, not other sets', () => {
    expect(scopeKey(['store-1'])).toBe('store-1');
    expect(scopeKey('*')).toBe('*');
    expect(scopeKey(['store-1', 'store-2'])).toBeUndefined();
  });
});
