import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const SQLITE_SYNCHRONOUS_MODES = ['FULL', 'NORMAL'] as const;
export type SqliteSynchronous = (typeof SQLITE_SYNCHRONOUS_MODES)[number];

export const DEMO_SEEDS = ['none', 'walkthrough', 'chain'] as const;
/** What a new database is seeded with: nothing, the README's store-1, or that plus a chain. */
export type DemoSeed = (typeof DEMO_SEEDS)[number];

export const TRACE_EXPORTERS = ['otlp', 'console', 'zipkin', 'none'] as const;
const OTLP_PROTOCOLS = ['grpc', 'http/protobuf', 'http/json'] as const;

/**
 * OpenTelemetry traces, as the standard OTEL_* variables ask for them. The SDK reads those
 * variables itself; this says whether to start it at all, so that with tracing off no
 * OpenTelemetry code is even loaded.
 */
export interface TracingSettings {
  readonly enabled: boolean;
  /** `service.name` of every span. */
  readonly serviceName: string;
  /** The exporters spans go to (the SDK's default, otlp, when only an endpoint is set). */
  readonly exporters: readonly string[];
  /** The OTLP endpoint, when one is set. */
  readonly endpoint: string | undefined;
}

/** Store ids a key may touch: every store, or a fixed list. */
export type StoreScope = '*' | readonly string[];

export interface ApiKeyEntry {
  readonly key: string;
  readonly stores: StoreScope;
  readonly admin: boolean;
}

/**
 * The one typed configuration object. Built once from the environment by `loadConfig`;
 * every consumer injects it by this class token.
 */
export abstract class AppConfig {
  abstract readonly port: number;
  /**
   * Processes serving the port (node:cluster): 1 is a single process; more start a primary that
   * prepares the database once and supervises that many workers.
   */
  abstract readonly workers: number;
  /** PostgreSQL connection string; undefined selects the embedded SQLite store. */
  abstract readonly databaseUrl: string | undefined;
  abstract readonly databasePoolSize: number;
  abstract readonly dataDir: string;
  abstract readonly sqliteSynchronous: SqliteSynchronous;
  abstract readonly apiKeys: readonly ApiKeyEntry[];
  abstract readonly seedDemo: DemoSeed;
  /** The chain dataset of SEED_DEMO=chain: this many stores, each with this many products. */
  abstract readonly seedChainStores: number;
  abstract readonly seedChainProducts: number;
  abstract readonly queueCapacity: number;
  abstract readonly queueSubmitTimeoutMs: number;
  abstract readonly processingTimeoutMs: number;
  abstract readonly idempotencyTtlSeconds: number;
  abstract readonly idempotencyCacheSize: number;
  abstract readonly logLevel: LogLevel;
  abstract readonly bodyLimitBytes: number;
  /**
   * How long a client may take to send a whole request (headers and body) before it is answered
   * 408 and its connection closed: a half-sent request otherwise holds its connection for Node's
   * default five minutes.
   */
  abstract readonly requestTimeoutMs: number;
  /** How long a graceful shutdown may take before the process gives up and exits 1. */
  abstract readonly shutdownTimeoutMs: number;
  /**
   * How long, after the signal, new requests are answered 503 (and readiness fails) before the
   * listener closes: time for load balancers to stop sending, and for clients to get an answer
   * rather than a refused connection.
   */
  abstract readonly shutdownGraceMs: number;
  /** Requests per second allowed per API key; 0 turns rate limiting off. */
  abstract readonly rateLimitPerSecond: number;
  /** Failed authentications allowed per client address per minute; 0 turns the limit off. */
  abstract readonly authFailuresPerMinute: number;
  /** Browser origins allowed by CORS; empty keeps CORS closed. */
  abstract readonly corsOrigins: readonly string[];
  /** Reverse proxies in front of the service whose X-Forwarded-For is trusted (0: none). */
  abstract readonly trustProxyHops: number;
  /** How often an idle change stream sends a heartbeat comment. */
  abstract readonly streamHeartbeatMs: number;
  /**
   * How long a change stream gathers changes after a write before it writes again (0: every
   * change at once). A write per change per subscriber is what a busy feed spends most on.
   */
  abstract readonly streamLingerMs: number;
  /** How long a reservation holds stock when the request does not say. */
  abstract readonly reservationTtlSeconds: number;
  /** The shortest and longest hold a request may ask for. */
  abstract readonly reservationMinTtlSeconds: number;
  abstract readonly reservationMaxTtlSeconds: number;
  /** How often expired holds are looked for and given back. */
  abstract readonly reservationSweepIntervalMs: number;
  /**
   * Whether each commit sends a PostgreSQL NOTIFY that wakes the feed of every instance at once.
   * Off for engines without LISTEN/NOTIFY: the feed then finds commits by reading the head.
   */
  abstract readonly feedNotify: boolean;
  /** How often the head is read while someone waits for changes: the wake bound without NOTIFY. */
  abstract readonly feedPollIntervalMs: number;
  /** Recent changes kept in memory to serve every subscriber without a read of its own. */
  abstract readonly feedTailChanges: number;
  /** How long ledger rows are kept; undefined keeps them all. */
  abstract readonly ledgerRetentionMs: number | undefined;
  /** How often rows older than the retention are looked for and pruned. */
  abstract readonly ledgerPruneIntervalMs: number;
  abstract readonly tracing: TracingSettings;
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

const DURATION_UNITS_MS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DAY_MS = DURATION_UNITS_MS.d;

/** A duration as configured (`30d`, `12h`, `15m`, `90s`), in its largest whole unit. */
export function formatDuration(ms: number): string {
  const [unit, size] = Object.entries(DURATION_UNITS_MS)
    .reverse()
    .find(([, unitMs]) => ms % unitMs === 0) ?? ['s', 1000];
  return `${ms / size}${unit}`;
}

const STORE_ID = /^[A-Za-z0-9._:-]{1,64}$/;
/** Shorter keys could be guessed; the failed-authentication limit only slows guessing down. */
const MIN_PRODUCTION_KEY_LENGTH = 20;
// Keys travel in an HTTP header and inside a comma/colon separated list.
const API_KEY = /^[\x21-\x2b\x2d-\x39\x3b-\x7e]{1,256}$/;

/** Reads and validates the environment; throws a ConfigError naming every bad variable. */
export function loadConfig(env: Env = process.env): AppConfig {
  const problems: string[] = [];
  const read = new EnvReader(env, problems);

  const databaseUrl = read.optionalString('DATABASE_URL');
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push('DATABASE_URL must be a postgres:// or postgresql:// URL');
  }

  // A container image (NODE_ENV=production) gets no default key and no demo data: a forgotten
  // API_KEYS stops the start-up instead of opening the service to the documented demo key.
  const production = env.NODE_ENV === 'production';
  const apiKeys = read.optionalString('API_KEYS');
  if (apiKeys === undefined && production) {
    problems.push('API_KEYS must be set when NODE_ENV=production (there is no default key in production), e.g. API_KEYS=<random key of 20+ characters>:admin');
  }

  const config: AppConfig = {
    port: read.integer('PORT', 8081, 0, 65535),
    workers: readWorkers(env, problems),
    databaseUrl,
    databasePoolSize: read.integer('DATABASE_POOL_SIZE', 10, 1, 1000),
    dataDir: resolve(read.optionalString('DATA_DIR') ?? './data'),
    sqliteSynchronous: read.oneOf('SQLITE_SYNCHRONOUS', SQLITE_SYNCHRONOUS_MODES, 'FULL'),
    apiKeys: apiKeys === undefined ? (production ? [] : parseApiKeys('demo:*', problems)) : parseApiKeys(apiKeys, problems, production ? MIN_PRODUCTION_KEY_LENGTH : 1),
    seedDemo: read.demoSeed('SEED_DEMO', production ? 'none' : 'walkthrough'),
    seedChainStores: read.integer('SEED_CHAIN_STORES', 200, 1, 100_000),
    seedChainProducts: read.integer('SEED_CHAIN_PRODUCTS', 5000, 1, 1_000_000),
    queueCapacity: read.integer('QUEUE_CAPACITY', 100, 1, 1_000_000),
    queueSubmitTimeoutMs: read.integer('QUEUE_SUBMIT_TIMEOUT_MS', 5000, 0, 600_000),
    processingTimeoutMs: read.integer('PROCESSING_TIMEOUT_MS', 10_000, 1, 600_000),
    idempotencyTtlSeconds: read.integer('IDEMPOTENCY_TTL_SECONDS', 86_400, 1, 30 * 86_400),
    idempotencyCacheSize: read.integer('IDEMPOTENCY_CACHE_SIZE', 10_000, 0, 10_000_000),
    logLevel: read.oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
    bodyLimitBytes: read.integer('BODY_LIMIT_BYTES', 100 * 1024, 1024, 10 * 1024 * 1024),
    requestTimeoutMs: read.integer('REQUEST_TIMEOUT_MS', 30_000, 1000, 600_000),
    shutdownTimeoutMs: read.integer('SHUTDOWN_TIMEOUT_MS', 25_000, 100, 600_000),
    shutdownGraceMs: read.integer('SHUTDOWN_GRACE_MS', 3000, 0, 600_000),
    rateLimitPerSecond: read.integer('RATE_LIMIT_PER_SECOND', 500, 0, 1_000_000),
    authFailuresPerMinute: read.integer('AUTH_FAILURES_PER_MINUTE', 30, 0, 1_000_000),
    corsOrigins: read.origins('CORS_ORIGINS'),
    trustProxyHops: read.integer('TRUST_PROXY_HOPS', 0, 0, 10),
    streamHeartbeatMs: read.integer('STREAM_HEARTBEAT_MS', 15_000, 100, 300_000),
    streamLingerMs: read.integer('STREAM_LINGER_MS', 250, 0, 5000),
    reservationTtlSeconds: read.integer('RESERVATION_TTL_SECONDS', 900, 1, 30 * 86_400),
    reservationMinTtlSeconds: read.integer('RESERVATION_MIN_TTL_SECONDS', 60, 1, 30 * 86_400),
    reservationMaxTtlSeconds: read.integer('RESERVATION_MAX_TTL_SECONDS', 86_400, 1, 30 * 86_400),
    reservationSweepIntervalMs: read.integer('RESERVATION_SWEEP_INTERVAL_MS', 1000, 100, 600_000),
    feedNotify: read.onOff('FEED_NOTIFY', true),
    feedPollIntervalMs: read.integer('FEED_POLL_INTERVAL_MS', 1000, 50, 60_000),
    feedTailChanges: read.integer('FEED_TAIL_CHANGES', 10_000, 0, 10_000_000),
    ledgerRetentionMs: read.duration('LEDGER_RETENTION', 30 * DAY_MS),
    ledgerPruneIntervalMs: read.integer('LEDGER_PRUNE_INTERVAL_MS', 60_000, 100, 86_400_000),
    tracing: readTracingSettings(env, problems),
  };
  if (config.reservationMinTtlSeconds > config.reservationTtlSeconds || config.reservationTtlSeconds > config.reservationMaxTtlSeconds) {
    problems.push('RESERVATION_MIN_TTL_SECONDS <= RESERVATION_TTL_SECONDS <= RESERVATION_MAX_TTL_SECONDS must hold');
  }

  if (config.shutdownGraceMs >= config.shutdownTimeoutMs) {
    problems.push('SHUTDOWN_GRACE_MS must be less than SHUTDOWN_TIMEOUT_MS (the grace is part of the shutdown)');
  }
  if (problems.length > 0) {
    throw new ConfigError(problems);
  }
  return config;
}

/**
 * WORKERS: a number of processes, or `auto` (one per core this process may run on). Read on its
 * own by code that runs before the configuration is loaded (see isClusterPrimary), and by
 * loadConfig, which reports a bad value with the rest.
 */
export function readWorkers(env: Env, problems: string[]): number {
  return new EnvReader(env, problems).workers('WORKERS', 1);
}

/**
 * Whether this process is the primary of a cluster: more than one worker is asked for and it is
 * not one of the workers (`isPrimary`: node:cluster's). The primary prepares the database and
 * supervises the workers; it serves no request.
 */
export function isClusterPrimary(workers: number, isPrimary: boolean): boolean {
  return workers > 1 && isPrimary;
}

/**
 * Whether OTEL_* asks for traces: an OTLP endpoint, or an exporter other than `none`, unless
 * OTEL_SDK_DISABLED. Read on its own before anything else is loaded (see common/tracing), and
 * again by loadConfig, which reports the problems with the rest.
 */
export function readTracingSettings(env: Env, problems: string[]): TracingSettings {
  const read = new EnvReader(env, problems);
  const endpoint = read.optionalString('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') ?? read.optionalString('OTEL_EXPORTER_OTLP_ENDPOINT');
  if (endpoint !== undefined && !/^https?:\/\/[^/]/.test(endpoint)) {
    problems.push(`OTEL_EXPORTER_OTLP_ENDPOINT must be an http:// or https:// URL (got '${endpoint}')`);
  }
  for (const name of ['OTEL_EXPORTER_OTLP_PROTOCOL', 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL']) {
    read.oneOf(name, OTLP_PROTOCOLS, 'http/protobuf');
  }
  const named = (read.optionalString('OTEL_TRACES_EXPORTER') ?? '')
    .split(',')
    .map((exporter) => exporter.trim().toLowerCase())
    .filter((exporter) => exporter.length > 0);
  const unknown = named.filter((exporter) => !(TRACE_EXPORTERS as readonly string[]).includes(exporter));
  if (unknown.length > 0) {
    problems.push(`OTEL_TRACES_EXPORTER must list some of ${TRACE_EXPORTERS.join(', ')} (got '${unknown.join(',')}')`);
  }
  const exporters = named.length > 0 ? named : endpoint !== undefined ? ['otlp'] : [];
  const enabled = !read.boolean('OTEL_SDK_DISABLED', false) && exporters.length > 0 && !exporters.includes('none') && unknown.length === 0;
  const fromResource = /(?:^|,)\s*service\.name\s*=\s*([^,]+)/.exec(env.OTEL_RESOURCE_ATTRIBUTES ?? '')?.[1].trim();
  return {
    enabled,
    serviceName: read.optionalString('OTEL_SERVICE_NAME') ?? fromResource ?? 'inventory-service',
    exporters: enabled ? exporters : [],
    endpoint: enabled ? endpoint : undefined,
  };
}

/**
 * `API_KEYS` is a comma-separated list of `key:scope`, where scope is `*` (every store),
 * `admin` (every store and the admin routes) or `store-a|store-b`.
 */
export function parseApiKeys(raw: string, problems: string[], minKeyLength = 1): ApiKeyEntry[] {
  const entries: ApiKeyEntry[] = [];
  const seen = new Set<string>();
  const items = raw.split(',').map((item) => item.trim());
  items.forEach((item, index) => {
    const where = `API_KEYS entry ${index + 1}`;
    const separator = item.lastIndexOf(':');
    if (separator <= 0 || separator === item.length - 1) {
      problems.push(`${where} must look like key:scope (scope is *, admin or store-a|store-b)`);
      return;
    }
    const key = item.slice(0, separator);
    const scope = item.slice(separator + 1);
    if (!API_KEY.test(key)) {
      problems.push(`${where}: the key must be 1-256 printable ASCII characters without ',' or ':'`);
      return;
    }
    if (key.length < minKeyLength) {
      problems.push(`${where}: with NODE_ENV=production a key needs at least ${minKeyLength} characters, so it cannot be guessed (e.g. openssl rand -hex 16)`);
      return;
    }
    if (seen.has(key)) {
      problems.push(`${where}: the key appears more than once`);
      return;
    }
    seen.add(key);
    if (scope === '*' || scope === 'admin') {
      entries.push({ key, stores: '*', admin: scope === 'admin' });
      return;
    }
    const stores = scope.split('|');
    const bad = stores.find((store) => !STORE_ID.test(store));
    if (bad !== undefined) {
      problems.push(`${where}: '${bad}' is not a valid store id (1-64 of [A-Za-z0-9._:-])`);
      return;
    }
    entries.push({ key, stores, admin: false });
  });
  if (items.length === 0 || entries.length === 0) {
    problems.push('API_KEYS must define at least one key');
  }
  return entries;
}

class EnvReader {
  constructor(
    private readonly env: Env,
    private readonly problems: string[],
  ) {}

  optionalString(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const raw = this.optionalString(name);
    if (raw === undefined) {
      return fallback;
    }
    const value = /^-?\d+$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      this.problems.push(`${name} must be an integer from ${min} to ${max} (got '${raw}')`);
      return fallback;
    }
    return value;
  }

  boolean(name: string, fallback: boolean): boolean {
    const raw = this.optionalString(name)?.toLowerCase();
    if (raw === undefined) {
      return fallback;
    }
    if (raw === 'true' || raw === '1') {
      return true;
    }
    if (raw === 'false' || raw === '0') {
      return false;
    }
    this.problems.push(`${name} must be true or false (got '${raw}')`);
    return fallback;
  }

  /** Comma-separated origins such as https://pos.example.com; `*` is refused (keys are credentials). */
  origins(name: string): string[] {
    const raw = this.optionalString(name);
    if (raw === undefined) {
      return [];
    }
    const origins = raw.split(',').map((origin) => origin.trim());
    for (const origin of origins) {
      let valid = false;
      try {
        const url = new URL(origin);
        valid = (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === origin;
      } catch {
        valid = false;
      }
      if (!valid) {
        this.problems.push(`${name} must list origins like https://pos.example.com (got '${origin}')`);
      }
    }
    return origins;
  }

  /** A number of processes, or `auto`: one per core this process may run on. */
  workers(name: string, fallback: number): number {
    const raw = this.optionalString(name)?.toLowerCase();
    if (raw === 'auto') {
      return availableParallelism();
    }
    return this.integer(name, fallback, 1, 256);
  }

  /** `on`/`off` (or true/false). */
  onOff(name: string, fallback: boolean): boolean {
    const raw = this.optionalString(name)?.toLowerCase();
    if (raw === 'on') {
      return true;
    }
    if (raw === 'off') {
      return false;
    }
    return this.boolean(name, fallback);
  }

  /** `true` or `false` (the README's store-1), or `chain`. */
  demoSeed(name: string, fallback: DemoSeed): DemoSeed {
    const raw = this.optionalString(name)?.toLowerCase();
    if (raw === 'chain') {
      return 'chain';
    }
    if (raw === undefined) {
      return fallback;
    }
    if (raw === 'true' || raw === '1') {
      return 'walkthrough';
    }
    if (raw === 'false' || raw === '0') {
      return 'none';
    }
    this.problems.push(`${name} must be true, false or chain (got '${raw}')`);
    return fallback;
  }

  /** A duration such as `30d`, `12h`, `15m` or `90s`, in milliseconds; `off` is undefined. */
  duration(name: string, fallback: number): number | undefined {
    const raw = this.optionalString(name)?.toLowerCase();
    if (raw === undefined) {
      return fallback;
    }
    if (raw === 'off') {
      return undefined;
    }
    const match = /^(\d{1,9})([smhd])$/.exec(raw);
    const ms = match === null ? 0 : Number(match[1]) * DURATION_UNITS_MS[match[2]];
    if (ms <= 0) {
      this.problems.push(`${name} must be a duration such as 30d, 12h, 15m or 90s, or off (got '${raw}')`);
      return fallback;
    }
    return ms;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const raw = this.optionalString(name);
    if (raw === undefined) {
      return fallback;
    }
    const match = allowed.find((candidate) => candidate.toLowerCase() === raw.toLowerCase());
    if (match === undefined) {
      this.problems.push(`${name} must be one of ${allowed.join(', ')} (got '${raw}')`);
      return fallback;
    }
    return match;
  }
}
