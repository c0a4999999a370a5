import { IDENTIFIER_PATTERN, REASON_PATTERN } from '../inventory/dto/constraints';

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
