import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { IsOptional, ValidateBy } from 'class-validator';

/**
 * An optional query parameter holding a decimal integer within [min, max]. Only plain digits
 * become numbers ("1e3", "0x10", " 5" and "" stay strings and fail), so what is accepted is
 * exactly what is documented.
 */
export function QueryInteger(min: number, max: number): PropertyDecorator {
  return applyDecorators(
    IsOptional(),
    Transform(({ value }: { value: unknown }) => (typeof value === 'string' && /^\d{1,16}$/.test(value) ? Number(value) : value)),
    ValidateBy({
      name: 'queryInteger',
      validator: {
        validate: (value: unknown) => typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max,
        defaultMessage: () => `must be an integer from ${min} to ${max}`,
      },
    }),
  );
}
