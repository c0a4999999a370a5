import { ValidationPipe, type ValidationPipeOptions } from '@nestjs/common';
import type { ValidationError } from 'class-validator';
import { ApiError, type FieldIssue } from '../errors/api-error';

/** `updates.1.delta` style paths become `updates[1].delta`. */
function childPath(parent: string, property: string): string {
  if (/^\d+$/.test(property)) {
    return `${parent}[${property}]`;
  }
  return parent === '' ? property : `${parent}.${property}`;
}

export function flattenValidationErrors(errors: readonly ValidationError[], parent = ''): FieldIssue[] {
  const issues: FieldIssue[] = [];
  for (const error of errors) {
    const field = childPath(parent, error.property);
    const constraints = error.constraints ?? {};
    const messages = Object.entries(constraints).map(([name, message]) =>
      name === 'whitelistValidation' ? 'unknown field' : message,
    );
    if (messages.length > 0) {
      issues.push({ field, issue: messages.join('; ') });
    }
    issues.push(...flattenValidationErrors(error.children ?? [], field));
  }
  return issues;
}

export const VALIDATION_OPTIONS: ValidationPipeOptions = {
  whitelist: true,
  forbidNonWhitelisted: true,
  forbidUnknownValues: true,
  transform: true,
  validationError: { target: false, value: false },
  exceptionFactory: (errors) => ApiError.validation(flattenValidationErrors(errors)),
};

export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe(VALIDATION_OPTIONS);
}
