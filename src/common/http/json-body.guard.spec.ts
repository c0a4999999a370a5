import { findStructuralProblem, findTextProblem, MAX_JSON_DEPTH, MAX_OBJECT_FIELDS, writtenAsInteger } from './json-body.guard';

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

describe('findTextProblem', () => {
  it.each([
    ['{"a":1,"a":2}', 'a'],
    ['{"a":1,"b":{"c":1,"c":2}}', 'c'],
    ['{"updates":[{"k":1},{"k":2,"k":3}]}', 'k'],
    ['{"a":1,"\\u0061":2}', 'a'],
    ['{"\\"a\\"":1,"y":{"\\"a\\"":1},"\\"a\\"":2}', '"a"'],
  ])('finds the repeated key in %s', (text, key) => {
    expect(findTextProblem(text)).toEqual({ field: 'body', issue: `has the key '${key}' twice in one object` });
  });

  it.each([
    ['{"delta":-0.99999999999999999}', 'delta', '-0.99999999999999999', -1],
    ['{"storeId":"s","updates":[{"delta":1},{"productId":"p","version":1.0000000000000001}]}', 'updates[1].version', '1.0000000000000001', 1],
    ['{"lines":[{"q":1},[2,2.99999999999999999e0]]}', 'lines[1][1]', '2.99999999999999999e0', 3],
    ['{"a":{"b":[1,2,{"c":[1e-400]}]}}', 'a.b[2].c[0]', '1e-400', 0],
    ['7.0000000000000001', 'body', '7.0000000000000001', 7],
  ])('names a number that reads as an integer but is not one as written, in %s', (text, field, number, read) => {
    expect(findTextProblem(text)).toEqual({ field, issue: `must be an integer (not ${number}, which rounds to ${read})` });
  });

  it('leaves a number that is not an integer once read to the field’s own rule', () => {
    expect(findTextProblem('{"delta":1.5,"ttlSeconds":60.5,"q":3e-1}')).toBeUndefined();
  });

  it.each([
    '{"a":1,"b":{"a":2}}',
    '{"a":"a","b":["a","a"]}',
    '[{"a":1},{"a":2}]',
    '{"a":"b\\"a\\":1","c":{}}',
    '"plain"',
    '{"delta":-5,"version":0,"q":1.0,"r":1.50e1,"s":12e3,"t":0.0e-5,"u":"1.5","v":[true,false,null,-0]}',
  ])('accepts %s', (text) => {
    expect(findTextProblem(text)).toBeUndefined();
  });
});

describe('writtenAsInteger', () => {
  it.each(['0', '-0', '7', '-12', '1.0', '1.000', '1.5e1', '2e0', '120e-1', '1e400', '0.0e-9', '0.01e2'])('%s is', (number) => {
    expect(writtenAsInteger(number)).toBe(true);
  });

  it.each(['1.5', '-0.99999999999999999', '1.0000000000000001', '15e-1', '1e-7', '0.001e2', 'x'])('%s is not', (number) => {
    expect(writtenAsInteger(number)).toBe(false);
  });
});
