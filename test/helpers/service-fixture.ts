import { createTestStore, type TestStore } from './dialect';
import { type ServiceProcess, spawnService } from './service-process';
import { TcpProxy } from './tcp-proxy';
import { spawnGatedService, type WriteGate } from './write-gate';

/** A fresh store, and the service processes and proxies started on it (see useServiceFixture). */
export interface ServiceFixture {
  /** The store of the running test (or suite). */
  readonly store: TestStore;
  /** Starts the service on the store: the store's environment, then `env`. */
  spawn(env?: Record<string, string>): Promise<ServiceProcess>;
  /** The same, with write transactions the test can hold before they commit (see write-gate). */
  spawnGated(env?: Record<string, string>): Promise<{ service: ServiceProcess; gate: WriteGate }>;
  /** A TCP proxy to the service's port (cut() and restore() it to drop its clients' connections). */
  proxyTo(service: ServiceProcess): Promise<TcpProxy>;
}

/**
 * Registers the hooks of a suite that runs the service as a real process: a fresh store before
 * each test (`per: 'test'`) or once before the suite (`per: 'suite'`), and after it the proxies
 * closed, every service started on the store killed (SIGKILL) and the store disposed. Call it in
 * a describe block.
 */
export function useServiceFixture(per: 'test' | 'suite'): ServiceFixture {
  let current: TestStore | undefined;
  const services: ServiceProcess[] = [];
  const proxies: TcpProxy[] = [];
  const store = (): TestStore => {
    if (current === undefined) {
      throw new Error(`no store: it exists only during a ${per === 'test' ? 'test' : 'suite'}`);
    }
    return current;
  };

  const setUp = async () => {
    current = await createTestStore();
  };
  const tearDown = async () => {
    for (const proxy of proxies.splice(0)) {
      await proxy.close();
    }
    // A service already stopped (or killed by the test) is not signalled again.
    await Promise.all(services.splice(0).map((service) => service.stop('SIGKILL')));
    await current?.dispose();
    current = undefined;
  };
  if (per === 'test') {
    beforeEach(setUp);
    afterEach(tearDown);
  } else {
    beforeAll(setUp);
    afterAll(tearDown);
  }

  return {
    get store() {
      return store();
    },
    spawn: async (env = {}) => {
      const service = await spawnService({ ...store().env, ...env });
      services.push(service);
      return service;
    },
    spawnGated: async (env = {}) => {
      const started = await spawnGatedService({ ...store().env, ...env });
      services.push(started.service);
      return started;
    },
    proxyTo: async (service) => {
      const proxy = await TcpProxy.start('127.0.0.1', service.port);
      proxies.push(proxy);
      return proxy;
    },
  };
}
