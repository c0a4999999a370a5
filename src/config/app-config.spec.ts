import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { ConfigError, formatDuration, isClusterPrimary, loadConfig, readWorkers } from './app-config';

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      return error.problems;
    }
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    expect(loadConfig({})).toEqual({
      port: 8081,
      workers: 1,
      databaseUrl: undefined,
      databasePoolSize: 10,
      dataDir: resolve('./data'),
      sqliteSynchronous: 'FULL',
      apiKeys: [{ key: 'demo', stores: '*', admin: false }],
      seedDemo: 'walkthrough',
      seedChainStores: 200,
      seedChainProducts: 5000,
      queueCapacity: 100,
      queueSubmitTimeoutMs: 5000,
      processingTimeoutMs: 10_000,
      idempotencyTtlSeconds: 86_400,
      idempotencyCacheSize: 10_000,
      logLevel: 'info',
      bodyLimitBytes: 102_400,
      requestTimeoutMs: 30_000,
      shutdownTimeoutMs: 25_000,
      shutdownGraceMs: 3000,
      rateLimitPerSecond: 500,
      authFailuresPerMinute: 30,
      corsOrigins: [],
      trustProxyHops: 0,
      streamHeartbeatMs: 15_000,
      streamLingerMs: 250,
      reservationTtlSeconds: 900,
      reservationMinTtlSeconds: 60,
      reservationMaxTtlSeconds: 86_400,
      reservationSweepIntervalMs: 1000,
      feedNotify: true,
      feedPollIntervalMs: 1000,
      feedTailChanges: 10_000,
      ledgerRetentionMs: 30 * 86_400_000,
      ledgerPruneIntervalMs: 60_000,
      tracing: { enabled: false, serviceName: 'inventory-service', exporters: [], endpoint: undefined },
    });
  });

  it('reads every variable', () => {
    const config = loadConfig({
      PORT: '9000',
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test',
      DATA_DIR: '/tmp/x',
      API_KEYS: 'demo:*,store1-pos:store-1,ops:admin',
      SEED_DEMO: 'false',
      QUEUE_CAPACITY: '5',
      QUEUE_SUBMIT_TIMEOUT_MS: '10',
      PROCESSING_TIMEOUT_MS: '20',
      IDEMPOTENCY_TTL_SECONDS: '60',
      LOG_LEVEL: 'DEBUG',
    });
    expect(config).toMatchObject({
      port: 9000,
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/test',
      dataDir: '/tmp/x',
      seedDemo: 'none',
      queueCapacity: 5,
      queueSubmitTimeoutMs: 10,
      processingTimeoutMs: 20,
      idempotencyTtlSeconds: 60,
      logLevel: 'debug',
    });
    expect(config.apiKeys).toEqual([
      { key: 'demo', stores: '*', admin: false },
      { key: 'store1-pos', stores: ['store-1'], admin: false },
      { key: 'ops', stores: '*', admin: true },
    ]);
  });

  it('reads CORS origins and refuses wildcards and paths', () => {
    expect(loadConfig({ CORS_ORIGINS: 'https://pos.example.com, http://localhost:3000' }).corsOrigins).toEqual(['https://pos.example.com', 'http://localhost:3000']);
    expect(problemsOf({ CORS_ORIGINS: '*' })[0]).toContain('CORS_ORIGINS');
    expect(problemsOf({ CORS_ORIGINS: 'https://pos.example.com/app' })[0]).toContain('CORS_ORIGINS');
  });

  it('names every bad variable at once', () => {
    const problems = problemsOf({ PORT: 'eighty', QUEUE_CAPACITY: '0', SEED_DEMO: 'maybe', LOG_LEVEL: 'loud', DATABASE_URL: 'mysql://x' });
    expect(problems).toHaveLength(5);
    expect(problems.join('\n')).toEqual(expect.stringContaining("PORT must be an integer from 0 to 65535 (got 'eighty')"));
    for (const name of ['QUEUE_CAPACITY', 'SEED_DEMO', 'LOG_LEVEL', 'DATABASE_URL']) {
      expect(problems.some((problem) => problem.startsWith(name))).toBe(true);
    }
  });

  it.each([
    ['demo', 'must look like key:scope'],
    ['demo:', 'must look like key:scope'],
    ['demo:store 1', 'is not a valid store id'],
    ['demo:*,demo:admin', 'appears more than once'],
    ['de mo:*', 'printable ASCII'],
  ])('refuses API_KEYS=%s', (raw, message) => {
    expect(problemsOf({ API_KEYS: raw }).join('\n')).toContain(message);
  });

  it('has no default key and no demo data with NODE_ENV=production, and wants long keys there', () => {
    expect(problemsOf({ NODE_ENV: 'production' })).toEqual([expect.stringContaining('API_KEYS must be set when NODE_ENV=production')]);
    expect(problemsOf({ NODE_ENV: 'production', API_KEYS: 'short:admin' }).join('\n')).toContain('at least 20 characters');
    const key = '0123456789abcdef0123';
    expect(loadConfig({ NODE_ENV: 'production', API_KEYS: `${key}:admin` })).toMatchObject({ apiKeys: [{ key, stores: '*', admin: true }], seedDemo: 'none' });
    expect(loadConfig({ NODE_ENV: 'production', API_KEYS: `${key}:admin`, SEED_DEMO: 'true' }).seedDemo).toBe('walkthrough');
    // Elsewhere (npm start on a laptop) the zero-set-up defaults stay.
    expect(loadConfig({ NODE_ENV: 'development' })).toMatchObject({ apiKeys: [{ key: 'demo', stores: '*', admin: false }], seedDemo: 'walkthrough' });
  });

  it('keeps the default hold time within its bounds', () => {
    expect(problemsOf({ RESERVATION_TTL_SECONDS: '30' })).toEqual([expect.stringContaining('RESERVATION_MIN_TTL_SECONDS <= RESERVATION_TTL_SECONDS')]);
    expect(loadConfig({ RESERVATION_TTL_SECONDS: '30', RESERVATION_MIN_TTL_SECONDS: '1' }).reservationTtlSeconds).toBe(30);
  });

  it('keeps the shutdown grace within the shutdown deadline', () => {
    expect(problemsOf({ SHUTDOWN_TIMEOUT_MS: '2000' })).toEqual([expect.stringContaining('SHUTDOWN_GRACE_MS must be less than SHUTDOWN_TIMEOUT_MS')]);
    expect(loadConfig({ SHUTDOWN_TIMEOUT_MS: '2000', SHUTDOWN_GRACE_MS: '500' }).shutdownGraceMs).toBe(500);
  });

  it('never echoes a key in its messages', () => {
    expect(problemsOf({ API_KEYS: 's3cr3t-key:store 1' }).join('\n')).not.toContain('s3cr3t');
  });

  it('reads the feed and retention settings: durations, off, on/off', () => {
    expect(loadConfig({ LEDGER_RETENTION: '12h' }).ledgerRetentionMs).toBe(12 * 3_600_000);
    expect(loadConfig({ LEDGER_RETENTION: '90s' }).ledgerRetentionMs).toBe(90_000);
    expect(loadConfig({ LEDGER_RETENTION: '15m' }).ledgerRetentionMs).toBe(900_000);
    expect(loadConfig({ LEDGER_RETENTION: 'off' }).ledgerRetentionMs).toBeUndefined();
    expect(loadConfig({ FEED_NOTIFY: 'off' }).feedNotify).toBe(false);
    expect(loadConfig({ FEED_NOTIFY: 'on' }).feedNotify).toBe(true);
    expect(loadConfig({ SEED_DEMO: 'chain', SEED_CHAIN_STORES: '3', SEED_CHAIN_PRODUCTS: '4' })).toMatchObject({ seedDemo: 'chain', seedChainStores: 3, seedChainProducts: 4 });
    for (const bad of ['30', '0d', '-1d', '1w', '1.5h', 'forever']) {
      expect(problemsOf({ LEDGER_RETENTION: bad })).toEqual([expect.stringContaining('LEDGER_RETENTION must be a duration')]);
    }
    expect(problemsOf({ FEED_NOTIFY: 'sometimes' })).toEqual([expect.stringContaining('FEED_NOTIFY')]);
    expect(problemsOf({ SEED_DEMO: 'all' })).toEqual([expect.stringContaining('SEED_DEMO must be true, false or chain')]);
  });

  it('reads WORKERS: a number, or auto for one per available core', () => {
    expect(loadConfig({ WORKERS: '4' }).workers).toBe(4);
    expect(loadConfig({ WORKERS: 'auto' }).workers).toBe(availableParallelism());
    for (const bad of ['0', '-1', 'many', '1.5']) {
      expect(problemsOf({ WORKERS: bad })).toEqual([expect.stringContaining('WORKERS')]);
    }
  });

  it('reads WORKERS on its own as loadConfig does, for code that runs before the configuration is loaded', () => {
    for (const value of ['1', '2', ' 8 ', 'auto', 'AUTO']) {
      const problems: string[] = [];
      expect(readWorkers({ WORKERS: value }, problems)).toBe(loadConfig({ WORKERS: value }).workers);
      expect(problems).toEqual([]);
    }
    expect(readWorkers({}, [])).toBe(1);
    // A bad value: the default, and the problem loadConfig reports.
    for (const bad of ['0', 'many']) {
      const problems: string[] = [];
      expect(readWorkers({ WORKERS: bad }, problems)).toBe(1);
      expect(problems).toEqual(problemsOf({ WORKERS: bad }));
    }
  });

  it('takes a process for a cluster primary only when it is node:cluster’s primary and more than one worker is asked for', () => {
    expect(isClusterPrimary(2, true)).toBe(true);
    expect(isClusterPrimary(16, true)).toBe(true);
    // A single process (WORKERS=1), and the workers of a cluster, serve requests.
    expect(isClusterPrimary(1, true)).toBe(false);
    expect(isClusterPrimary(2, false)).toBe(false);
    expect(isClusterPrimary(1, false)).toBe(false);
  });

  it('turns tracing on when OTEL_* asks for an exporter, and names the service', () => {
    const endpoint = 'http://127.0.0.1:4318';
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint }).tracing).toEqual({ enabled: true, serviceName: 'inventory-service', exporters: ['otlp'], endpoint });
    expect(loadConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${endpoint}/v1/traces` }).tracing.endpoint).toBe(`${endpoint}/v1/traces`);
    expect(loadConfig({ OTEL_TRACES_EXPORTER: 'Console' }).tracing).toMatchObject({ enabled: true, exporters: ['console'], endpoint: undefined });
    expect(loadConfig({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_SERVICE_NAME: 'inventory-eu' }).tracing.serviceName).toBe('inventory-eu');
    expect(loadConfig({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod, service.name = inventory-us' }).tracing.serviceName).toBe('inventory-us');
    // Off: nothing asks, `none` is asked for, or the SDK is disabled.
    expect(loadConfig({ OTEL_SERVICE_NAME: 'inventory-eu' }).tracing.enabled).toBe(false);
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_TRACES_EXPORTER: 'none' }).tracing).toMatchObject({ enabled: false, exporters: [], endpoint: undefined });
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SDK_DISABLED: 'true' }).tracing.enabled).toBe(false);
  });

  it('names bad OTEL_* values', () => {
    const problems = problemsOf({ OTEL_TRACES_EXPORTER: 'otlp,jaeger', OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'udp' });
    expect(problems).toEqual([
      expect.stringContaining('OTEL_EXPORTER_OTLP_ENDPOINT must be an http:// or https:// URL'),
      expect.stringContaining('OTEL_EXPORTER_OTLP_PROTOCOL must be one of grpc, http/protobuf, http/json'),
      expect.stringContaining("OTEL_TRACES_EXPORTER must list some of otlp, console, zipkin, none (got 'jaeger')"),
    ]);
  });

  it('formats a duration in its largest whole unit', () => {
    expect([30 * 86_400_000, 12 * 3_600_000, 90_000, 120_000, 1000].map(formatDuration)).toEqual(['30d', '12h', '90s', '2m', '1s']);
  });
});
