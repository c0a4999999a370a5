import { runInNewContext } from 'node:vm';
import { InventoryHttpError, InventoryNetworkError, isConnectionFailure, isRetryableAnswer } from './errors';
import { backoffCeiling, parseRetryAfter, retryDelay, type RetryEvent, type RetryOptions, withRetry } from './retry';

const NOW = Date.parse('2026-11-30T12:00:00.000Z');

function connectionReset(): TypeError {
  return new TypeError('fetch failed', { cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }) });
}

function answer(status: number, code?: string, retryAfterMs?: number): InventoryHttpError {
  return new InventoryHttpError({ operation: 'update', status, body: code === undefined ? {} : { code }, requestId: undefined, retryAfterMs, replayed: false });
}

describe('which answers are retried', () => {
  it.each([
    [503, 'QUEUE_FULL'],
    [503, 'SHUTTING_DOWN'],
    [503, 'DATABASE_UNAVAILABLE'],
    [504, 'PROCESSING_TIMEOUT'],
    [409, 'IDEMPOTENCY_KEY_IN_USE'],
    [429, 'RATE_LIMITED'],
    [408, 'REQUEST_TIMEOUT'],
    [502, undefined],
  ])('%i %s: retried', (status, code) => {
    expect(isRetryableAnswer(status, code)).toBe(true);
  });

  it.each([
    [400, 'VALIDATION_FAILED'],
    [401, 'UNAUTHENTICATED'],
    [403, 'STORE_FORBIDDEN'],
    [404, 'LEVEL_NOT_FOUND'],
    [409, 'VERSION_CONFLICT'],
    [409, 'INSUFFICIENT_STOCK'],
    [409, 'INSUFFICIENT_AVAILABLE'],
    [409, 'RESERVATION_NOT_ACTIVE'],
    [409, 'FEED_POSITION_AHEAD'],
    [409, undefined],
    [410, 'FEED_POSITION_EXPIRED'],
    [422, 'IDEMPOTENCY_KEY_REUSED'],
    [500, 'INTERNAL_ERROR'],
  ])('%i %s: not retried', (status, code) => {
    expect(isRetryableAnswer(status, code)).toBe(false);
  });

  it('takes connection failures for retryable, and nothing else that fetch throws', () => {
    expect(isConnectionFailure(connectionReset())).toBe(true);
    expect(isConnectionFailure(new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }) }))).toBe(true);
    expect(isConnectionFailure(new TypeError('terminated', { cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }) }))).toBe(true);
    expect(isConnectionFailure(new Error('socket hang up'))).toBe(true);
    expect(isConnectionFailure(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }))).toBe(true);
    expect(isConnectionFailure(new TypeError('Failed to parse URL from nowhere'))).toBe(false);
    expect(isConnectionFailure(new DOMException('This operation was aborted', 'AbortError'))).toBe(false);
    expect(isConnectionFailure(new SyntaxError('Unexpected token'))).toBe(false);
  });

  it('recognises fetch’s errors from another realm, where instanceof does not hold', () => {
    const foreign: unknown = runInNewContext('new TypeError("fetch failed", { cause: Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" }) })');
    expect(foreign instanceof TypeError).toBe(false);
    expect(isConnectionFailure(foreign)).toBe(true);
    expect(isConnectionFailure(runInNewContext('new TypeError("Invalid URL")'))).toBe(false);
  });
});

describe('Retry-After', () => {
  it('reads delta-seconds', () => {
    expect(parseRetryAfter('1', NOW)).toBe(1000);
    expect(parseRetryAfter(' 120 ', NOW)).toBe(120_000);
    expect(parseRetryAfter('0', NOW)).toBe(0);
  });

  it('reads the three HTTP date forms, as GMT, relative to now', () => {
    expect(parseRetryAfter('Mon, 30 Nov 2026 12:00:05 GMT', NOW)).toBe(5000);
    expect(parseRetryAfter('Monday, 30-Nov-26 12:00:07 GMT', NOW)).toBe(7000);
    expect(parseRetryAfter('Mon Nov 30 12:00:09 2026', NOW)).toBe(9000);
  });

  it('counts a date already past as no wait', () => {
    expect(parseRetryAfter('Mon, 30 Nov 2026 11:59:00 GMT', NOW)).toBe(0);
  });

  it('ignores what is neither', () => {
    for (const value of [null, undefined, '', '1.5', '-1', 'soon', '2026-11-30T12:00:05Z', 'Mon, 30 Nov 2026 12:00:05 CET']) {
      expect(parseRetryAfter(value, NOW)).toBeUndefined();
    }
  });
});

describe('backoff', () => {
  const options = { baseDelayMs: 100, maxDelayMs: 1000 };

  it('doubles its ceiling with every retry, up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6, 30].map((retry) => backoffCeiling(retry, options))).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
  });

  it('waits a random time from 0 up to the ceiling (full jitter)', () => {
    expect(retryDelay(3, options, undefined, () => 0)).toBe(0);
    expect(retryDelay(3, options, undefined, () => 0.5)).toBe(200);
    expect(retryDelay(3, options, undefined, () => 0.999999)).toBe(399);
    const draws = Array.from({ length: 1000 }, () => retryDelay(2, options, undefined));
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...draws)).toBeLessThan(200);
    // Spread out, not all in step.
    expect(new Set(draws).size).toBeGreaterThan(50);
  });

  it('waits Retry-After in full, with the jitter on top', () => {
    expect(retryDelay(1, options, 1000, () => 0)).toBe(1000);
    expect(retryDelay(1, options, 1000, () => 0.999999)).toBe(1099);
    // Retry-After is honoured beyond maxDelayMs: the service knows better.
    expect(retryDelay(1, options, 5000, () => 0)).toBe(5000);
  });
});

describe('withRetry', () => {
  const fast: RetryOptions = { maxAttempts: 4, maxElapsedMs: 10_000, baseDelayMs: 1, maxDelayMs: 2, attemptTimeoutMs: 5_000 };

  it('retries retryable failures until one succeeds, telling onRetry each time', async () => {
    const failures = [connectionReset(), answer(503, 'QUEUE_FULL', 0), answer(409, 'IDEMPOTENCY_KEY_IN_USE', 0)];
    const events: RetryEvent[] = [];
    let tries = 0;
    const result = await withRetry({ operation: 'update', options: fast, idempotencyKeys: ['k1'], onRetry: (event) => events.push(event) }, () => {
      tries += 1;
      const failure = failures.shift();
      return failure === undefined ? Promise.resolve('done') : Promise.reject(failure);
    });
    expect(result).toBe('done');
    expect(tries).toBe(4);
    expect(events.map((event) => [event.attempt, event.error.constructor.name, event.idempotencyKeys])).toEqual([
      [1, 'InventoryNetworkError', ['k1']],
      [2, 'InventoryHttpError', ['k1']],
      [3, 'InventoryHttpError', ['k1']],
    ]);
  });

  it('stops after maxAttempts with the last failure, carrying the attempts and the key', async () => {
    let tries = 0;
    const failure = await withRetry({ operation: 'update', options: fast, idempotencyKeys: ['k2'], requestBody: { delta: 1 } }, () => {
      tries += 1;
      return Promise.reject(answer(503, 'QUEUE_FULL', 0));
    }).catch((error: unknown) => error);
    expect(tries).toBe(4);
    expect(failure).toBeInstanceOf(InventoryHttpError);
    expect(failure).toMatchObject({ status: 503, code: 'QUEUE_FULL', attempts: 4, idempotencyKey: 'k2', requestBody: { delta: 1 } });
  });

  it('never retries a decision', async () => {
    for (const [status, code] of [
      [400, 'VALIDATION_FAILED'],
      [409, 'VERSION_CONFLICT'],
      [422, 'IDEMPOTENCY_KEY_REUSED'],
    ] as const) {
      let tries = 0;
      await expect(
        withRetry({ operation: 'update', options: fast }, () => {
          tries += 1;
          return Promise.reject(answer(status, code));
        }),
      ).rejects.toMatchObject({ status, code, attempts: 1 });
      expect(tries).toBe(1);
    }
  });

  it('gives up at once when Retry-After would end beyond maxElapsedMs, instead of waiting for nothing', async () => {
    const started = Date.now();
    let tries = 0;
    await expect(
      withRetry({ operation: 'update', options: { ...fast, maxElapsedMs: 500 } }, () => {
        tries += 1;
        return Promise.reject(answer(503, 'QUEUE_FULL', 60_000));
      }),
    ).rejects.toMatchObject({ status: 503, attempts: 1 });
    expect(tries).toBe(1);
    expect(Date.now() - started).toBeLessThan(400);
  });

  it('gives a try up after attemptTimeoutMs and retries it', async () => {
    let tries = 0;
    const result = await withRetry({ operation: 'getLevel', options: { ...fast, attemptTimeoutMs: 50 } }, (signal) => {
      tries += 1;
      if (tries === 1) {
        // Never answers: only the try's own signal ends it.
        return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)));
      }
      return Promise.resolve('answered');
    });
    expect(result).toBe('answered');
    expect(tries).toBe(2);
  });

  it('reports a try that timed out on every attempt as a network error with timedOut', async () => {
    const failure = await withRetry({ operation: 'getLevel', options: { ...fast, maxAttempts: 2, attemptTimeoutMs: 20 } }, (signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)))).catch(
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(InventoryNetworkError);
    expect(failure).toMatchObject({ timedOut: true, attempts: 2 });
  });

  it('stops waiting when the caller aborts, with the caller’s reason', async () => {
    const caller = new AbortController();
    const reason = new Error('caller gave up');
    const pending = withRetry({ operation: 'update', options: { ...fast, baseDelayMs: 60_000, maxDelayMs: 60_000, maxElapsedMs: 120_000 }, signal: caller.signal, random: () => 0.5 }, () =>
      Promise.reject(connectionReset()),
    );
    setImmediate(() => caller.abort(reason));
    await expect(pending).rejects.toBe(reason);
  });

  it('rethrows what is not a connection failure or an answer (a bug is not retried)', async () => {
    let tries = 0;
    await expect(
      withRetry({ operation: 'update', options: fast }, () => {
        tries += 1;
        return Promise.reject(new TypeError('Failed to parse URL from ::'));
      }),
    ).rejects.toThrow('Failed to parse URL');
    expect(tries).toBe(1);
  });
});
