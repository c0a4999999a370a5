import { findStructuralProblem, MAX_JSON_DEPTH, MAX_OBJECT_FIELDS, readJsonText, withNotAnInteger, writtenAsInteger } from './json-body.guard';

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

describe('readJsonText', () => {
  it.each([
    ['{"a":1,"a":2}', 'a'],
    ['{"a":1,"b":{"c":1,"c":2}}', 'c'],
    ['{"updates":[{"k":1},{"k":2,"k":3}]}', 'k'],
    ['{"a":1,"\\u0061":2}', 'a'],
    ['{"\\"a\\"":1,"y":{"\\"a\\"":1},"\\"a\\"":2}', '"a"'],
  ])('finds the repeated key in %s', (text, key) => {
    expect(readJsonText(text).duplicateKey).toBe(key);
  });

  it('finds every number that reads as an integer but is not one as written, by its path', () => {
    const text = '{"delta":-0.99999999999999999,"updates":[{"delta":1},{"version":1.0000000000000001}],"lines":[[2,2.99999999999999999e0]],"a":{"b":[1,{"c":[1e-400]}]}}';
    expect(readJsonText(text).roundedNumbers).toEqual([['delta'], ['updates', 1, 'version'], ['lines', 0, 1], ['a', 'b', 1, 'c', 0]]);
    expect(readJsonText('7.0000000000000001').roundedNumbers).toEqual([[]]);
  });

  it('leaves a number that is not an integer once read to the field’s own rule', () => {
    expect(readJsonText('{"delta":1.5,"ttlSeconds":60.5,"q":3e-1}')).toEqual({ roundedNumbers: [] });
  });

  it.each([
    '{"a":1,"b":{"a":2}}',
    '{"a":"a","b":["a","a"]}',
    '[{"a":1},{"a":2}]',
    '{"a":"b\\"a\\":1","c":{}}',
    '"plain"',
    '{"delta":-5,"version":0,"q":1.0,"r":1.50e1,"s":12e3,"t":0.0e-5,"u":"1.5","v":[true,false,null,-0]}',
  ])('accepts %s', (text) => {
    expect(readJsonText(text)).toEqual({ roundedNumbers: [] });
  });
});

describe('withNotAnInteger', () => {
  it('puts a value no field takes where a rounded number stood', () => {
    expect(withNotAnInteger({ updates: [{ delta: 1 }, { version: 16 }] }, ['updates', 1, 'version'])).toEqual({ updates: [{ delta: 1 }, { version: 0.5 }] });
    expect(withNotAnInteger(7, [])).toBe(0.5);
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
