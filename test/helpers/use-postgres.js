// Setup file of the e2e:postgres jest project: the same suites, on PostgreSQL.
process.env.TEST_DIALECT = 'postgres';
