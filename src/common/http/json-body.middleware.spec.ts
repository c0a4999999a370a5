import { findStructuralProblem, MAX_JSON_DEPTH } from './json-body.middleware';

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
});
