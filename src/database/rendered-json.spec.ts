import { IDENTIFIER_PATTERN, REASON_PATTERN } from '../inventory/dto/constraints';
import { renderedPage } from './rendered-json';

/**
 * PostgreSQL writes `token` columns (rendered-json.ts) quoted as they are, trusting that nothing
 * in them needs escaping in JSON. That holds as long as every pattern that admits them into the
 * database admits no such character: were one widened, pages would carry broken JSON.
 */
describe('token columns of rendered pages', () => {
  const needsEscaping = ['"', '\\', '\u0000', '\n', '\t', '\u001f'];

  it.each([
    ['identifiers (store and product ids)', IDENTIFIER_PATTERN],
    ['reasons', REASON_PATTERN],
  ])('%s admit nothing JSON escapes', (_name, pattern) => {
    for (const character of needsEscaping) {
      expect(pattern.test(`a${character}b`)).toBe(false);
    }
    expect(pattern.test('ab')).toBe(true);
  });
});

describe('renderedPage', () => {
  const items = ['{"seq":9,"reference":"a,{\\"seq\\":1}"}', '{"seq":7,"reference":null}', '{"seq":4,"reference":null}'];

  it('keeps `limit` items and starts the next page after the last one’s key, read from that item', () => {
    expect(renderedPage<number>(items, 2, 'seq')).toEqual({ items: `[${items[0]},${items[1]}]`, count: 2, nextAfter: 7 });
  });

  it('has no next page when the extra item did not come', () => {
    expect(renderedPage<number>(items, 3, 'seq')).toEqual({ items: `[${items.join(',')}]`, count: 3, nextAfter: undefined });
    expect(renderedPage<string>([], 100, 'productId')).toEqual({ items: '[]', count: 0, nextAfter: undefined });
  });
});
