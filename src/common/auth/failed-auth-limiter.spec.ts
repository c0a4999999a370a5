import { FailedAuthLimiter } from './failed-auth-limiter';

describe('FailedAuthLimiter', () => {
  it('refuses an address after `limit` failures until its minute is over', () => {
    let time = 0;
    const limiter = new FailedAuthLimiter(3, () => time);
    for (let attempt = 0; attempt < 3; attempt += 1) {
      expect(limiter.retryAfterSeconds('10.0.0.1', undefined)).toBe(0);
      limiter.recordFailure('10.0.0.1');
    }
    expect(limiter.retryAfterSeconds('10.0.0.1', undefined)).toBe(60);
    expect(limiter.retryAfterSeconds('10.0.0.2', undefined)).toBe(0);
    time = 59_500;
    expect(limiter.retryAfterSeconds('10.0.0.1', undefined)).toBe(1);
    time = 60_000;
    expect(limiter.retryAfterSeconds('10.0.0.1', undefined)).toBe(0);
  });

  it('refuses a valid key that never authenticated from the blocked address, so a right guess looks like a wrong one', () => {
    const limiter = new FailedAuthLimiter(2, () => 0);
    limiter.recordSuccess('10.0.0.9', 'client-b');
    limiter.recordFailure('10.0.0.1');
    limiter.recordFailure('10.0.0.1');
    expect(limiter.retryAfterSeconds('10.0.0.1', 'client-b')).toBe(60);
  });

  it('lets keys that already authenticated from the address through while it is blocked', () => {
    let time = 0;
    const limiter = new FailedAuthLimiter(2, () => time);
    limiter.recordSuccess('10.0.0.1', 'client-a');
    time = 23 * 60 * 60_000;
    limiter.recordFailure('10.0.0.1');
    limiter.recordFailure('10.0.0.1');
    expect(limiter.retryAfterSeconds('10.0.0.1', undefined)).toBe(60);
    expect(limiter.retryAfterSeconds('10.0.0.1', 'client-a')).toBe(0);
    // Trust lasts a day from the key's last success there.
    time = 24 * 60 * 60_000 + 1;
    limiter.recordFailure('10.0.0.1');
    limiter.recordFailure('10.0.0.1');
    expect(limiter.retryAfterSeconds('10.0.0.1', 'client-a')).toBe(60);
  });

  it('does nothing with limit 0', () => {
    const limiter = new FailedAuthLimiter(0);
    for (let attempt = 0; attempt < 100; attempt += 1) {
      limiter.recordFailure('10.0.0.1');
    }
    expect(limiter.retryAfterSeconds('10.0.0.1', undefined)).toBe(0);
  });
});
