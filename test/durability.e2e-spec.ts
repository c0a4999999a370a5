import { createTestStore, TEST_DIALECT, type TestStore } from './helpers/dialect';
import { type ServiceProcess, spawnService } from './helpers/service-process';

interface Ready {
  info: { database: Record<string, string> };
}

/**
 * An acknowledged change must survive a power loss, not only a crash: what the running service's
 * own connection says about how its commits reach the disk (a kill -9 cannot tell FULL from NORMAL).
 */
describe('durability settings of the running service', () => {
  let store: TestStore;
  let service: ServiceProcess | undefined;

  beforeEach(async () => {
    store = await createTestStore();
  });

  afterEach(async () => {
    await service?.stop('SIGKILL');
    await store.dispose();
  });

  async function databaseCheck(env: Record<string, string> = {}): Promise<Record<string, string>> {
    service = await spawnService({ ...store.env, LOG_LEVEL: 'warn', ...env });
    const response = await fetch(`${service.url}/health/ready`);
    expect(response.status).toBe(200);
    return ((await response.json()) as Ready).info.database;
  }

  if (TEST_DIALECT === 'sqlite') {
    it('commits through a write-ahead log fsynced at every commit (synchronous=FULL) by default', async () => {
      expect(await databaseCheck()).toEqual({ status: 'up', dialect: 'sqlite', journalMode: 'wal', synchronous: 'FULL' });
    });

    it('reports the weaker setting when it is asked for', async () => {
      expect(await databaseCheck({ SQLITE_SYNCHRONOUS: 'NORMAL' })).toMatchObject({ journalMode: 'wal', synchronous: 'NORMAL' });
    });
  } else {
    it('commits synchronously (synchronous_commit=on)', async () => {
      expect(await databaseCheck()).toEqual({ status: 'up', dialect: 'postgres', synchronousCommit: 'on' });
    });
  }
});
