// Unit specs live beside the code (src/**/*.spec.ts, and the typed client's in
// clients/typescript/src); e2e suites in test/ (*.e2e-spec.ts) run once per database dialect.
// PostgreSQL suites need a reachable server: with CI=true its absence fails the run, elsewhere
// they are skipped with a warning.
const { randomBytes } = require('node:crypto');
const { Client } = require('pg');

const POSTGRES_URL = process.env.TEST_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/test';

async function postgresReachable() {
  const client = new Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch (error) {
    return error;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const common = {
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'json'],
  transform: { '^.+\\.ts$': 'ts-jest' },
  setupFiles: ['reflect-metadata'],
};

module.exports = async () => {
  const reachable = await postgresReachable();
  if (reachable === true) {
    // Read by the test helpers in every worker (workers inherit the environment).
    process.env.TEST_POSTGRES_URL = POSTGRES_URL;
    process.env.TEST_RUN_ID ??= randomBytes(4).toString('hex');
  } else if (process.env.CI === 'true') {
    throw new Error(`PostgreSQL at ${POSTGRES_URL} is unreachable and CI=true: the PostgreSQL suites must run. ${reachable.message}`);
  } else {
    console.warn(`\n[jest] PostgreSQL at ${POSTGRES_URL} is unreachable (${reachable.message}): skipping the e2e:postgres suites.\n`);
  }

  const projects = [
    { ...common, displayName: 'unit', roots: ['<rootDir>/src'], testRegex: '\\.spec\\.ts$' },
    { ...common, displayName: 'client', roots: ['<rootDir>/clients/typescript/src'], testRegex: '\\.spec\\.ts$' },
    { ...common, displayName: 'e2e:sqlite', roots: ['<rootDir>/test'], testRegex: '\\.e2e-spec\\.ts$', testPathIgnorePatterns: ['/test/postgres/'] },
  ];
  if (reachable === true) {
    projects.push({
      ...common,
      displayName: 'e2e:postgres',
      roots: ['<rootDir>/test'],
      testRegex: '\\.e2e-spec\\.ts$',
      testPathIgnorePatterns: ['/test/sqlite/'],
      setupFiles: [...common.setupFiles, '<rootDir>/test/helpers/use-postgres.js'],
    });
  }
  return {
    projects,
    testTimeout: 60_000,
    globalTeardown: '<rootDir>/test/helpers/global-teardown.js',
  };
};
