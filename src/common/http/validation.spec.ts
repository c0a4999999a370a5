import type { ValidationError } from 'class-validator';
import { flattenValidationErrors } from './validation';

describe('flattenValidationErrors', () => {
  it('names nested fields with indexes and reports unknown fields plainly', () => {
    const errors: ValidationError[] = [
      { property: 'foo', constraints: { whitelistValidation: 'property foo should not exist' }, children: [] },
      {
        property: 'updates',
        children: [{ property: '1', children: [{ property: 'delta', constraints: { isIntegerBetween: 'must be an integer' }, children: [] }] }],
      },
    ];
    expect(flattenValidationErrors(errors)).toEqual([
      { field: 'foo', issue: 'unknown field' },
      { field: 'updates[1].delta', issue: 'must be an integer' },
    ]);
  });

  it('tells a value of the wrong type only that, in the service’s words', () => {
    const errors: ValidationError[] = [
      {
        property: 'lines',
        constraints: {
          arrayMinSize: 'must hold 1-100 lines',
          isArray: 'must be an array of 1-100 lines',
          nestedValidation: 'each value in nested property lines must be either object or array',
        },
        children: [],
      },
      { property: 'body', constraints: { isObject: 'Validation failed (object is expected)' }, children: [] },
      { property: 'reference', constraints: { nestedValidation: 'nested property reference must be either object or array' }, children: [] },
    ];
    expect(flattenValidationErrors(errors)).toEqual([
      { field: 'lines', issue: 'must be an array of 1-100 lines' },
      { field: 'body', issue: 'must be a JSON object' },
      { field: 'reference', issue: 'must be an object, or an array of objects' },
    ]);
  });
});
