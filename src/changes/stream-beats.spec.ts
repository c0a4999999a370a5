import { beatOffset, scopeKey, StreamBeats, untilNextBeat } from './stream-beats';

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

  describe('StreamBeats', () => {
    beforeEach(() => jest.useFakeTimers({ now: 1_700_000_000_000 }));
    afterEach(() => jest.useRealTimers());

    /** Which of `waits` have resolved so far. */
    const settled = async (waits: Array<Promise<void>>) => {
      const done = waits.map(() => false);
      waits.forEach((wait, index) => void wait.then(() => (done[index] = true)));
      await Promise.resolve();
      await Promise.resolve();
      return done;
    };

    it('keeps one timer for the streams of a scope waiting for the same beat, and resolves them at it', async () => {
      const beats = new StreamBeats(250, new AbortController().signal);
      const now = Date.now();
      const first = beats.next(['store-0042'], now);
      const second = beats.next(['store-0042'], now + 3);
      const everyStore = beats.next('*', now);
      expect(second).toBe(first);
      expect(jest.getTimerCount()).toBe(2);
      jest.advanceTimersByTime(untilNextBeat(['store-0042'], 250, now) - 1);
      expect((await settled([first]))[0]).toBe(false);
      jest.advanceTimersByTime(1);
      expect((await settled([first]))[0]).toBe(true);
      jest.advanceTimersByTime(250);
      expect((await settled([everyStore]))[0]).toBe(true);
      expect(jest.getTimerCount()).toBe(0);
    });

    it('gives a scope of several stores a beat of its own, and a later beat a new wait', () => {
      const beats = new StreamBeats(250, new AbortController().signal);
      const now = Date.now();
      expect(beats.next(['store-1', 'store-2'], now)).not.toBe(beats.next(['store-1', 'store-2'], now));
      const first = beats.next(['store-0042'], now);
      jest.advanceTimersByTime(untilNextBeat(['store-0042'], 250, now));
      expect(beats.next(['store-0042'], Date.now())).not.toBe(first);
    });

    it('resolves every wait when stopped, and waits no more after', async () => {
      const stop = new AbortController();
      const beats = new StreamBeats(250, stop.signal);
      const waits = [beats.next(['store-0001'], Date.now()), beats.next('*', Date.now()), beats.next(['store-1', 'store-2'], Date.now())];
      expect(await settled(waits)).toEqual([false, false, false]);
      stop.abort();
      expect(await settled(waits)).toEqual([true, true, true]);
      expect(jest.getTimerCount()).toBe(0);
      expect((await settled([beats.next(['store-0001'], Date.now())]))[0]).toBe(true);
    });
  });
});
