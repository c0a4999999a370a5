/** Trackers (API keys, addresses) remembered at most; the longest-idle window is forgotten first. */
const MAX_TRACKED = 100_000;

interface Window {
  readonly startedAt: number;
  count: number;
}

export interface RateDecision {
  readonly allowed: boolean;
  /** Requests left in the current window. */
  readonly remaining: number;
  /** Whole seconds until the window ends (at least 1). */
  readonly resetSeconds: number;
}

/**
 * Fixed-window request counting per tracker: `limit` requests per `windowMs`, the window
 * starting at a tracker's first request. One Map lookup per request.
 */
export class RateLimiter {
  private readonly windows = new Map<string, Window>();

  constructor(
    readonly limit: number,
    readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  take(tracker: string): RateDecision {
    const now = this.now();
    let window = this.windows.get(tracker);
    if (window === undefined || now - window.startedAt >= this.windowMs) {
      window = { startedAt: now, count: 0 };
      // Re-inserted, so the Map's order is the order windows started: the oldest goes first.
      this.windows.delete(tracker);
      this.windows.set(tracker, window);
      if (this.windows.size > MAX_TRACKED) {
        this.windows.delete(this.windows.keys().next().value as string);
      }
    }
    const allowed = window.count < this.limit;
    if (allowed) {
      window.count += 1;
    }
    const resetSeconds = Math.max(1, Math.ceil((window.startedAt + this.windowMs - now) / 1000));
    return { allowed, remaining: this.limit - window.count, resetSeconds };
  }
}
