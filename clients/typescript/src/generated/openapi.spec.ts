import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CLIENT = join(__dirname, '..', '..');
const GENERATOR = join(CLIENT, 'scripts', 'generate.mjs');
const OPENAPI = join(CLIENT, '..', '..', 'openapi.json');

function check(...args: string[]) {
  return spawnSync(process.execPath, [GENERATOR, '--check', ...args], { cwd: CLIENT, encoding: 'utf8', timeout: 60_000 });
}

describe('the generated types (src/generated/openapi.ts)', () => {
  it('are what openapi-typescript makes of the committed openapi.json', () => {
    const result = check();
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
  });

  it('fail the check once openapi.json has changed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'client-openapi-'));
    try {
      const changed = JSON.parse(readFileSync(OPENAPI, 'utf8')) as { components: { schemas: Record<string, { properties: Record<string, unknown> }> } };
      changed.components.schemas.StockLevelResponseDto.properties.binLocation = { type: 'string' };
      const source = join(dir, 'openapi.json');
      writeFileSync(source, JSON.stringify(changed));
      const result = check(`--source=${source}`);
      expect(result.status).toBe(1);
      expect(result.stderr).toContain('npm run client:generate');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
