import { RateLimiter } from './rate-limiter';

describe('RateLimiter', () => {
  it('allows `limit` requests per window and tracker, counting down what is left', () => {
    let time = 1_000;
    const limiter = new RateLimiter(2, 1000, () => time);
    expect(limiter.take('a')).toEqual({ allowed: true, remaining: 1, resetSeconds: 1 });
    expect(limiter.take('a')).toEqual({ allowed: true, remaining: 0, resetSeconds: 1 });
    expect(limiter.take('a')).toEqual({ allowed: false, remaining: 0, resetSeconds: 1 });
    expect(limiter.take('b')).toMatchObject({ allowed: true, remaining: 1 });
    time = 2_000;
    expect(limiter.take('a')).toEqual({ allowed: true, remaining: 1, resetSeconds: 1 });
  });

  it('tells the whole seconds until a longer window resets', () => {
    let time = 0;
    const limiter = new RateLimiter(1, 10_000, () => time);
    limiter.take('a');
    time = 2_500;
    expect(limiter.take('a')).toEqual({ allowed: false, remaining: 0, resetSeconds: 8 });
  });
});
