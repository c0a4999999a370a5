import { applyDecorators } from '@nestjs/common';
import { ValidateBy, ValidateIf, type ValidationArguments } from 'class-validator';
import { IDEMPOTENCY_KEY_PATTERN } from '../../idempotency/idempotency-key';

export const IDENTIFIER_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;

function requiredOr(message: string) {
  return (args: ValidationArguments): string => (args.value === undefined ? 'is required' : message);
}

// The checks each decorator below makes, also used where a DTO accepts a valid value without
// the validation libraries (common/http/fast-accept.ts), so the two cannot disagree.
export const isIdentifier = (value: unknown): value is string => typeof value === 'string' && IDENTIFIER_PATTERN.test(value);
export const isIdempotencyKey = (value: unknown): value is string => typeof value === 'string' && IDEMPOTENCY_KEY_PATTERN.test(value);
export const isReason = (value: unknown): value is string => typeof value === 'string' && REASON_PATTERN.test(value);
export const isReference = (value: unknown): value is string => typeof value === 'string' && REFERENCE_PATTERN.test(value);
export function isIntegerBetween(min: number, max: number, options: { nonZero?: boolean } = {}): (value: unknown) => value is number {
  return (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max && !(options.nonZero === true && value === 0);
}

/** storeId / productId: 1-64 characters of [A-Za-z0-9._:-] */
export function IsIdentifier(): PropertyDecorator {
  return ValidateBy({
    name: 'isIdentifier',
    validator: {
      validate: isIdentifier,
      defaultMessage: requiredOr('must be a string of 1-64 characters from A-Z a-z 0-9 . _ : -'),
    },
  });
}

export function IsIdempotencyKey(): PropertyDecorator {
  return ValidateBy({
    name: 'isIdempotencyKey',
    validator: {
      validate: isIdempotencyKey,
      defaultMessage: requiredOr('must be a string of 1-255 printable ASCII characters'),
    },
  });
}

/**
 * A JSON integer within [min, max]; strings, floats and unsafe integers are refused. `message`
 * replaces the default one where the range a client may use is narrower and checked later.
 */
export function IsIntegerBetween(min: number, max: number, options: { nonZero?: boolean; message?: string } = {}): PropertyDecorator {
  const description = options.message ?? `must be ${options.nonZero ? 'a non-zero' : 'an'} integer from ${min} to ${max}`;
  return applyDecorators(
    ValidateBy({
      name: 'isIntegerBetween',
      validator: {
        validate: isIntegerBetween(min, max, options),
        defaultMessage: requiredOr(description),
      },
    }),
  );
}

export const REASON_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;
export const REFERENCE_PATTERN = /^[\x20-\x7e]{1,255}$/;

/** A machine-readable reason such as `sale`, `received` or `cycle_count`. */
export function IsReason(): PropertyDecorator {
  return ValidateBy({
    name: 'isReason',
    validator: {
      validate: isReason,
      defaultMessage: () => 'must be 1-64 characters of a-z 0-9 _ starting with a letter (e.g. sale, received, cycle_count)',
    },
  });
}

/** What the change is for, such as an order or delivery id: 1-255 printable ASCII characters. */
export function IsReference(): PropertyDecorator {
  return ValidateBy({
    name: 'isReference',
    validator: {
      validate: isReference,
      defaultMessage: () => 'must be 1-255 printable ASCII characters',
    },
  });
}

/** Optional: may be left out, but when present (null included) it is validated. */
export function IsOptionalButNotNull(): PropertyDecorator {
  return ValidateIf((_object: object, value: unknown) => value !== undefined);
}

/**
 * Each item of an array of nested objects is an object: nested validation would look inside an
 * array item as if it were a list of objects, and take `[[{…}]]` for valid.
 */
export function IsEachAnObject(): PropertyDecorator {
  return ValidateBy({
    name: 'isEachAnObject',
    validator: {
      validate: (value: unknown) => !Array.isArray(value) || value.every((item) => typeof item === 'object' && item !== null && !Array.isArray(item)),
      defaultMessage: (args: ValidationArguments) => {
        const index = (args.value as unknown[]).findIndex((item) => typeof item !== 'object' || item === null || Array.isArray(item));
        return `must hold objects only (item ${index} is not one)`;
      },
    },
  });
}
