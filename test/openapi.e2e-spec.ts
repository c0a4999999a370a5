import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startApp, type TestApp } from './helpers/test-app';

interface Operation {
  responses: Record<string, { description?: string; content?: Record<string, unknown> }>;
  parameters?: Array<{ name: string; in: string }>;
  security?: unknown[];
  summary?: string;
}

describe('the OpenAPI document', () => {
  let app: TestApp;
  let served: { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, unknown> } };

  beforeAll(async () => {
    app = await startApp();
    served = (await app.http().get('/docs-json').expect(200)).body as typeof served;
  });

  afterAll(async () => {
    await app.close();
  });

  it('is committed as openapi.json, up to date (run `npm run openapi` after changing the API)', () => {
    const committed: unknown = JSON.parse(readFileSync(join(__dirname, '..', 'openapi.json'), 'utf8'));
    expect(served).toEqual(committed);
  });

  it('describes every route the application serves', () => {
    const documented = Object.entries(served.paths).flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`));
    const routes: string[] = [];
    const router = (app.app.getHttpAdapter().getInstance() as { router: { stack: Array<{ route?: { path: string; methods: Record<string, boolean> } }> } }).router;
    for (const layer of router.stack) {
      // Middleware mounted on every path (body parsing, metrics) is not a route.
      if (layer.route !== undefined && !layer.route.path.startsWith('/docs') && !layer.route.path.includes('*path')) {
        for (const method of Object.keys(layer.route.methods)) {
          routes.push(`${method.toUpperCase()} ${layer.route.path.replace(/:(\w+)/g, '{$1}')}`);
        }
      }
    }
    expect(routes.length).toBeGreaterThanOrEqual(11);
    expect(documented.sort()).toEqual([...new Set(routes)].sort());
  });

  it('gives every authenticated operation a summary, the key requirement and its error answers as problem details', () => {
    for (const [path, operations] of Object.entries(served.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        expect(operation.summary).toEqual(expect.any(String));
        if (!path.startsWith('/v1/')) {
          continue;
        }
        expect({ route: `${method} ${path}`, security: operation.security }).toEqual({ route: `${method} ${path}`, security: [{ 'api-key': [] }] });
        for (const status of ['400', '401', '403', '429', '500', '503']) {
          expect({ route: `${method} ${path}`, status, content: Object.keys(operation.responses[status]?.content ?? {}) }).toEqual({
            route: `${method} ${path}`,
            status,
            content: ['application/problem+json'],
          });
        }
      }
    }
  });

  it('documents the update body with the walkthrough examples', () => {
    const update = served.paths['/v1/inventory/updates'].post as Operation & { requestBody: { content: Record<string, { examples: Record<string, unknown> }> } };
    expect(Object.keys(update.requestBody.content['application/json'].examples)).toEqual(
      expect.arrayContaining(['successfulUpdate', 'versionConflict', 'idempotentRequest', 'batchWithMixedResults', 'atomicBatch']),
    );
    expect(update.parameters?.map((parameter) => parameter.name)).toEqual(expect.arrayContaining(['Idempotency-Key', 'X-Request-Id']));
  });

  it('documents the refusal of a feed position beyond the head on both feed routes', () => {
    for (const path of ['/v1/changes', '/v1/changes/stream']) {
      const refusal = served.paths[path].get.responses['409'];
      expect({ path, content: Object.keys(refusal?.content ?? {}) }).toEqual({ path, content: ['application/problem+json'] });
      expect(refusal?.description).toContain('FEED_POSITION_AHEAD');
    }
  });
});
