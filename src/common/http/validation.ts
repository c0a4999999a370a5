import { type ArgumentMetadata, ValidationPipe, type ValidationPipeOptions } from '@nestjs/common';
import { ARRAY_MAX_SIZE, getMetadataStorage, type ValidationError } from 'class-validator';
import { ApiError, type FieldIssue } from '../errors/api-error';
import { acceptQuickly } from './fast-accept';

/** `updates.1.delta` style paths become `updates[1].delta`. */
function childPath(parent: string, property: string): string {
  // A digit-only name below the top is an array index; at the top, a body's field.
  if (/^\d+$/.test(property) && parent !== '') {
    return `${parent}[${property}]`;
  }
  return parent === '' ? property : `${parent}.${property}`;
}

/** Framework constraints whose messages are said in the service's own words. */
const OWN_WORDS: Readonly<Record<string, string>> = {
  whitelistValidation: 'unknown field',
  isObject: 'must be a JSON object',
  nestedValidation: 'must be an object, or an array of objects',
};

/** A value of the wrong type is told that, not also every rule about what it should contain. */
const TYPE_CONSTRAINTS: ReadonlySet<string> = new Set(['isArray', 'isObject']);

export function flattenValidationErrors(errors: readonly ValidationError[], parent = ''): FieldIssue[] {
  const issues: FieldIssue[] = [];
  for (const error of errors) {
    const field = childPath(parent, error.property);
    const entries = Object.entries(error.constraints ?? {});
    const typeError = entries.find(([name]) => TYPE_CONSTRAINTS.has(name));
    const messages = [...new Set((typeError === undefined ? entries : [typeError]).map(([name, message]) => OWN_WORDS[name] ?? message))];
    if (messages.length > 0) {
      issues.push({ field, issue: messages.join('; ') });
    }
    issues.push(...flattenValidationErrors(error.children ?? [], field));
  }
  return issues;
}

/**
 * Names an object inherits (`toString`, `valueOf`, `hasOwnProperty`…): class-transformer skips
 * such keys, so the unknown-field check would never see them. They are refused up front.
 */
const INHERITED_NAMES = new Set([...Object.getOwnPropertyNames(Object.prototype), 'prototype']);

export function inheritedNameIssues(value: unknown, path = ''): FieldIssue[] {
  if (typeof value !== 'object' || value === null) {
    return [];
  }
  const issues: FieldIssue[] = [];
  for (const key of Object.keys(value)) {
    const field = childPath(path, key);
    if (INHERITED_NAMES.has(key)) {
      issues.push({ field, issue: 'unknown field' });
    } else {
      issues.push(...inheritedNameIssues((value as Record<string, unknown>)[key], field));
    }
  }
  return issues;
}

/** A DTO field's `@ArrayMaxSize`: its name, its bound and what it says when exceeded. */
interface ArrayBound {
  readonly field: string;
  readonly max: number;
  readonly issue: string;
}

/** Each DTO's bounded arrays, read from class-validator's metadata the first time the DTO is seen. */
const arrayBounds = new WeakMap<object, readonly ArrayBound[]>();

function arrayBoundsOf(metatype: new (...args: never[]) => unknown): readonly ArrayBound[] {
  let bounds = arrayBounds.get(metatype);
  if (bounds === undefined) {
    bounds = getMetadataStorage()
      .getTargetValidationMetadatas(metatype, '', false, false)
      .filter((rule) => rule.name === ARRAY_MAX_SIZE)
      .map((rule) => {
        const [max] = rule.constraints as [number];
        return { field: rule.propertyName, max, issue: typeof rule.message === 'string' ? rule.message : `must hold at most ${max} items` };
      });
    arrayBounds.set(metatype, bounds);
  }
  return bounds;
}

/**
 * A body's arrays longer than their DTO allows (`@ArrayMaxSize` on a field of `metatype`),
 * refused before anything is validated item by item: a batch of 45,000 items would otherwise be
 * checked, and told about, item by item, taking the process with it for most of a minute.
 */
export function oversizedArrayIssues(metatype: unknown, value: unknown): FieldIssue[] {
  if (typeof metatype !== 'function' || typeof value !== 'object' || value === null) {
    return [];
  }
  return arrayBoundsOf(metatype as new (...args: never[]) => unknown).flatMap(({ field, max, issue }) => {
    const items = (value as Record<string, unknown>)[field];
    return Array.isArray(items) && items.length > max ? [{ field, issue }] : [];
  });
}

/** What a query parameter given more than once (`?limit=1&limit=2`) is told. */
const GIVEN_ONCE = 'must be given once';

/**
 * A query parameter given more than once arrives as an array: its rules would
 * answer that it is not an integer or not a string, which a client reads as a wrong value. It is
 * told it must be given once instead (a message that already says so, the cursor's, is kept).
 */
function repeatedParameterIssues(error: unknown, query: unknown): unknown {
  const issues = error instanceof ApiError ? error.options.errors : undefined;
  if (issues === undefined || typeof query !== 'object' || query === null) {
    return error;
  }
  const given = query as Record<string, unknown>;
  const repeated = (issue: FieldIssue) => issue.issue !== OWN_WORDS.whitelistValidation && Object.hasOwn(given, issue.field) && typeof given[issue.field] !== 'string';
  return ApiError.validation(issues.map((issue) => (repeated(issue) && !issue.issue.startsWith(GIVEN_ONCE) ? { ...issue, issue: GIVEN_ONCE } : issue)));
}

/** Nest's ValidationPipe, refusing inherited-member names that it would silently drop. */
export class StrictValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    // Only where a DTO is validated (a custom decorator's value is not a request part).
    const validated = this.toValidate(metadata);
    // Every body is one JSON object: an array would be validated item by item, as if it were one.
    if (validated && metadata.type === 'body' && Array.isArray(value)) {
      throw ApiError.invalidField('body', 'must be a JSON object');
    }
    const oversized = validated && metadata.type === 'body' ? oversizedArrayIssues(metadata.metatype, value) : [];
    if (oversized.length > 0) {
      throw ApiError.validation(oversized);
    }
    const accepted = validated ? acceptQuickly(metadata.metatype, value) : undefined;
    if (accepted !== undefined) {
      return accepted;
    }
    // Looked for before Nest's pipe runs: it deletes `__proto__` and `constructor` keys in place.
    const issues = validated ? inheritedNameIssues(value) : [];
    // The DTO rules run first, so an unknown field is named itself rather than a name inside it.
    let transformed: unknown;
    try {
      transformed = await super.transform(value, metadata);
    } catch (error) {
      throw metadata.type === 'query' ? repeatedParameterIssues(error, value) : error;
    }
    if (issues.length > 0) {
      throw ApiError.validation(issues);
    }
    return transformed;
  }
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
  return new StrictValidationPipe(VALIDATION_OPTIONS);
}
