const WINDOW_MS = 60_000;
/** Addresses tracked at most; the oldest window is forgotten first. */
const MAX_TRACKED_ADDRESSES = 10_000;

interface Window {
  startedAt: number;
  failures: number;
}

/**
 * Slows down API-key guessing: once an address has failed authentication `limit` times in a
 * minute, every request from it is refused (429) until that minute is over.
 */
export class FailedAuthLimiter {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly limit: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until the address may try again, or 0 if it may try now. */
  retryAfterSeconds(address: string): number {
    if (this.limit === 0) {
      return 0;
    }
    const window = this.current(address);
    if (window === undefined || window.failures < this.limit) {
      return 0;
    }
    return Math.max(1, Math.ceil((window.startedAt + WINDOW_MS - this.now()) / 1000));
  }

  recordFailure(address: string): void {
    if (this.limit === 0) {
      return;
    }
    const window = this.current(address) ?? { startedAt: this.now(), failures: 0 };
    window.failures += 1;
    this.windows.delete(address);
    this.windows.set(address, window);
    if (this.windows.size > MAX_TRACKED_ADDRESSES) {
      this.windows.delete(this.windows.keys().next().value as string);
    }
  }

  private current(address: string): Window | undefined {
    const window = this.windows.get(address);
    if (window !== undefined && this.now() - window.startedAt >= WINDOW_MS) {
      this.windows.delete(address);
      return undefined;
    }
    return window;
  }
}
