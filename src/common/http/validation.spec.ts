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
});
