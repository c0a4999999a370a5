import { FailedAuthLimiter } from './failed-auth-limiter';

describe('FailedAuthLimiter', () => {
  it('refuses an address after `limit` failures until its minute is over', () => {
    let time = 0;
    const limiter = new FailedAuthLimiter(3, () => time);
    for (let attempt = 0; attempt < 3; attempt += 1) {
      expect(limiter.retryAfterSeconds('10.0.0.1')).toBe(0);
      limiter.recordFailure('10.0.0.1');
    }
    expect(limiter.retryAfterSeconds('10.0.0.1')).toBe(60);
    expect(limiter.retryAfterSeconds('10.0.0.2')).toBe(0);
    time = 59_500;
    expect(limiter.retryAfterSeconds('10.0.0.1')).toBe(1);
    time = 60_000;
    expect(limiter.retryAfterSeconds('10.0.0.1')).toBe(0);
  });

  it('does nothing with limit 0', () => {
    const limiter = new FailedAuthLimiter(0);
    for (let attempt = 0; attempt < 100; attempt += 1) {
      limiter.recordFailure('10.0.0.1');
    }
    expect(limiter.retryAfterSeconds('10.0.0.1')).toBe(0);
  });
});
