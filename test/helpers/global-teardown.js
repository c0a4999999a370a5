// Drops any database this run created and a crashed suite left behind.
require('ts-node/register/transpile-only');

module.exports = async function globalTeardown() {
  if (process.env.TEST_POSTGRES_URL === undefined) {
    return;
  }
  const { dropDatabasesWithPrefix, TEST_DATABASE_PREFIX } = require('./postgres.ts');
  await dropDatabasesWithPrefix(TEST_DATABASE_PREFIX);
};
