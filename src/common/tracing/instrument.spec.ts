import cluster from 'node:cluster';

jest.mock('./tracing', () => ({ startTracing: jest.fn() }));

/** Loads instrument.ts afresh with `env`, as a process would at start, and says whether it started tracing. */
function startsTracing(env: Record<string, string>, isPrimary: boolean): boolean {
  const saved = process.env;
  const primary = jest.replaceProperty(cluster, 'isPrimary', isPrimary);
  process.env = { PATH: saved.PATH, ...env };
  try {
    let started = false;
    // A module runs once per registry: a fresh one per load, as a new process would.
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require('./instrument');
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      started = jest.mocked((require('./tracing') as typeof import('./tracing')).startTracing).mock.calls.length > 0;
    });
    return started;
  } finally {
    process.env = saved;
    primary.restore();
  }
}

describe('instrument', () => {
  const tracingOn = { OTEL_TRACES_EXPORTER: 'console' };

  it('starts tracing in a single process when OTEL_* asks for it, and not otherwise', () => {
    expect(startsTracing(tracingOn, true)).toBe(true);
    expect(startsTracing({}, true)).toBe(false);
  });

  it('leaves it to the workers of a cluster: not in the primary, which serves no request', () => {
    expect(startsTracing({ ...tracingOn, WORKERS: '2' }, true)).toBe(false);
    expect(startsTracing({ ...tracingOn, WORKERS: '2' }, false)).toBe(true);
    expect(startsTracing({ ...tracingOn, WORKERS: 'auto' }, false)).toBe(true);
  });
});
