const WINDOW_MS = 60_000;
/** A key that authenticated from an address within this time still passes while it is blocked. */
const TRUSTED_FOR_MS = 24 * 60 * 60_000;
/** Addresses tracked at most; the least recently seen is forgotten first. */
const MAX_TRACKED_ADDRESSES = 10_000;

interface AddressRecord {
  windowStartedAt: number;
  failures: number;
  /** Client ids that authenticated from this address, with when they last did. */
  readonly trusted: Map<string, number>;
}

/**
 * Slows down API-key guessing without letting one client lock out the others. Once an address
 * has failed authentication `limit` times in a minute, it is blocked for the rest of that minute:
 * every request from it is refused (429) — a right guess included, so guessing learns nothing —
 * except requests with a key that already authenticated from that address in the last day. A
 * misconfigured client behind a proxy (every client sharing one address) therefore blocks only
 * unknown keys, while the stores already working through that proxy carry on.
 */
export class FailedAuthLimiter {
  private readonly addresses = new Map<string, AddressRecord>();

  constructor(
    private readonly limit: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until a request from `address` with the key of `clientId` (undefined: unknown key) may be tried, or 0 if now. */
  retryAfterSeconds(address: string, clientId: string | undefined): number {
    if (this.limit === 0) {
      return 0;
    }
    const record = this.addresses.get(address);
    if (record === undefined) {
      return 0;
    }
    const now = this.now();
    if (now - record.windowStartedAt >= WINDOW_MS || record.failures < this.limit) {
      return 0;
    }
    const trustedAt = clientId === undefined ? undefined : record.trusted.get(clientId);
    if (trustedAt !== undefined && now - trustedAt < TRUSTED_FOR_MS) {
      return 0;
    }
    return Math.max(1, Math.ceil((record.windowStartedAt + WINDOW_MS - now) / 1000));
  }

  recordFailure(address: string): void {
    if (this.limit === 0) {
      return;
    }
    const now = this.now();
    const record = this.touch(address, now);
    if (now - record.windowStartedAt >= WINDOW_MS) {
      record.windowStartedAt = now;
      record.failures = 0;
    }
    record.failures += 1;
  }

  recordSuccess(address: string, clientId: string): void {
    if (this.limit === 0) {
      return;
    }
    const now = this.now();
    const record = this.addresses.get(address);
    const trustedAt = record?.trusted.get(clientId);
    // Refreshed at most once a minute: this runs on every authenticated request.
    if (trustedAt === undefined || now - trustedAt >= WINDOW_MS) {
      this.touch(address, now).trusted.set(clientId, now);
    }
  }

  /** The address's record, made the most recently seen. */
  private touch(address: string, now: number): AddressRecord {
    const record = this.addresses.get(address) ?? { windowStartedAt: now - WINDOW_MS, failures: 0, trusted: new Map<string, number>() };
    this.addresses.delete(address);
    this.addresses.set(address, record);
    if (this.addresses.size > MAX_TRACKED_ADDRESSES) {
      this.addresses.delete(this.addresses.keys().next().value as string);
    }
    return record;
  }
}
