import { applyDecorators } from '@nestjs/common';
import { ValidateBy, type ValidationArguments } from 'class-validator';
import { IDEMPOTENCY_KEY_PATTERN } from '../../idempotency/idempotency-key';

export const IDENTIFIER_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;

function requiredOr(message: string) {
  return (args: ValidationArguments): string => (args.value === undefined ? 'is required' : message);
}

/** storeId / productId: 1-64 characters of [A-Za-z0-9._:-] */
export function IsIdentifier(): PropertyDecorator {
  return ValidateBy({
    name: 'isIdentifier',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && IDENTIFIER_PATTERN.test(value),
      defaultMessage: requiredOr('must be a string of 1-64 characters from A-Z a-z 0-9 . _ : -'),
    },
  });
}

export function IsIdempotencyKey(): PropertyDecorator {
  return ValidateBy({
    name: 'isIdempotencyKey',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && IDEMPOTENCY_KEY_PATTERN.test(value),
      defaultMessage: requiredOr('must be a string of 1-255 printable ASCII characters'),
    },
  });
}

/** A JSON integer within [min, max]; strings, floats and unsafe integers are refused. */
export function IsIntegerBetween(min: number, max: number, options: { nonZero?: boolean } = {}): PropertyDecorator {
  const description = `must be ${options.nonZero ? 'a non-zero' : 'an'} integer from ${min} to ${max}`;
  return applyDecorators(
    ValidateBy({
      name: 'isIntegerBetween',
      validator: {
        validate: (value: unknown) =>
          typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max && !(options.nonZero && value === 0),
        defaultMessage: requiredOr(description),
      },
    }),
  );
}
