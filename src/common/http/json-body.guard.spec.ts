import { findDuplicateKey, findStructuralProblem, MAX_JSON_DEPTH, MAX_OBJECT_FIELDS } from './json-body.guard';

function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let level = 1; level < depth; level += 1) {
    value = { a: value };
  }
  return value;
}

describe('findStructuralProblem', () => {
  it('accepts a valid batch', () => {
    expect(findStructuralProblem({ storeId: 's', updates: [{ productId: 'p', delta: 1, version: 0, idempotencyKey: 'k' }] })).toBeUndefined();
  });

  it(`refuses nesting deeper than ${MAX_JSON_DEPTH}`, () => {
    expect(findStructuralProblem(nested(MAX_JSON_DEPTH))).toBeUndefined();
    expect(findStructuralProblem(nested(MAX_JSON_DEPTH + 2))).toContain('nesting');
  });

  it.each(['__proto__', 'constructor', 'prototype'])('refuses the key %s at any depth', (key) => {
    expect(findStructuralProblem(JSON.parse(`{"${key}":{"x":1}}`))).toContain(key);
    expect(findStructuralProblem(JSON.parse(`{"updates":[{"${key}":1}]}`))).toContain(key);
  });

  it(`refuses an object with more than ${MAX_OBJECT_FIELDS} fields, not an array with more items`, () => {
    const fields = (count: number) => Object.fromEntries(Array.from({ length: count }, (_, index) => [`f${index}`, index]));
    expect(findStructuralProblem(fields(MAX_OBJECT_FIELDS))).toBeUndefined();
    expect(findStructuralProblem({ updates: [fields(MAX_OBJECT_FIELDS + 1)] })).toContain('more than');
    expect(findStructuralProblem({ updates: Array.from({ length: 100 }, () => ({ delta: 1 })) })).toBeUndefined();
  });
});

describe('findDuplicateKey', () => {
  it.each([
    ['{"a":1,"a":2}', 'a'],
    ['{"a":1,"b":{"c":1,"c":2}}', 'c'],
    ['{"updates":[{"k":1},{"k":2,"k":3}]}', 'k'],
    ['{"a":1,"\\u0061":2}', 'a'],
    ['{"\\"a\\"":1,"y":{"\\"a\\"":1},"\\"a\\"":2}', '"a"'],
  ])('finds the repeated key in %s', (text, key) => {
    expect(findDuplicateKey(text)).toBe(key);
  });

  it.each([
    '{"a":1,"b":{"a":2}}',
    '{"a":"a","b":["a","a"]}',
    '[{"a":1},{"a":2}]',
    '{"a":"b\\"a\\":1","c":{}}',
    '"plain"',
  ])('accepts %s', (text) => {
    expect(findDuplicateKey(text)).toBeUndefined();
  });
});
