import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { IsOptional, ValidateBy } from 'class-validator';

/** Only plain digits become numbers ("1e3", "0x10", " 5" and "" stay strings and fail). */
export const queryDigits = (value: unknown): unknown => (typeof value === 'string' && /^\d{1,16}$/.test(value) ? Number(value) : value);

export const isIntegerWithin = (min: number, max: number) => (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max;

/**
 * An optional query parameter holding a decimal integer within [min, max]. Only plain digits
 * become numbers, so what is accepted is exactly what is documented.
 */
export function QueryInteger(min: number, max: number): PropertyDecorator {
  return applyDecorators(
    IsOptional(),
    Transform(({ value }: { value: unknown }) => queryDigits(value)),
    ValidateBy({
      name: 'queryInteger',
      validator: {
        validate: isIntegerWithin(min, max),
        defaultMessage: () => `must be an integer from ${min} to ${max}`,
      },
    }),
  );
}

/** QueryInteger's value for `text`, for a query DTO's fast acceptance; undefined when it refuses. */
export function queryInteger(min: number, max: number): (text: unknown) => number | undefined {
  const within = isIntegerWithin(min, max);
  return (text) => {
    const value = queryDigits(text);
    return within(value) ? value : undefined;
  };
}
