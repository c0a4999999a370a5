/**
 * The validation pipe runs class-transformer and class-validator on every request: on an update,
 * that is more CPU than the database write. A DTO class may therefore declare how to accept a
 * value that is valid in every respect, with plain checks: the pipe takes that value as it is and
 * skips both libraries. Whatever such a check does not accept (any doubt at all) goes the usual
 * way, so the decorators still decide every refusal and word its errors.
 *
 * The one rule: an accepter must never accept what the class's decorators refuse. It is built
 * from the same predicates the decorators use, and each DTO's spec checks the two agree.
 */

/** A check of one field's value. */
export type FieldCheck = (value: unknown) => boolean;

export type Accepter<T> = (value: unknown) => T | undefined;

/** A DTO class that can accept a valid value without the validation libraries. */
export interface FastAccepting<T = unknown> {
  accept: Accepter<T>;
}

export function isPlainRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return false;
  }
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * Accepts a plain object whose own fields are all named here (so no unknown field, and no
 * `__proto__` or `constructor`), with every `required` field present and every present field
 * passing its check. The object itself is returned: its fields are exactly the DTO's.
 */
export function acceptObject<T>(required: Readonly<Record<string, FieldCheck>>, optional: Readonly<Record<string, FieldCheck>> = {}): Accepter<T> {
  const requiredNames = Object.keys(required);
  const checks = new Map<string, FieldCheck>([...Object.entries(required), ...Object.entries(optional)]);
  return (value: unknown): T | undefined => {
    if (!isPlainRecord(value)) {
      return undefined;
    }
    for (const name of requiredNames) {
      if (!Object.prototype.hasOwnProperty.call(value, name)) {
        return undefined;
      }
    }
    for (const name of Object.keys(value)) {
      const check = checks.get(name);
      if (check === undefined || !check(value[name])) {
        return undefined;
      }
    }
    return value as T;
  };
}

/** A query parameter's check: the value the DTO holds for the parameter's text, or undefined to refuse it. */
export type QueryFieldCheck = (text: unknown) => unknown;

/** A text parameter that passes `check`, taken as it is. */
export function queryText(check: (value: unknown) => boolean): QueryFieldCheck {
  return (text) => (check(text) ? text : undefined);
}

/**
 * Accepts a query string's parameters (all optional, each named here, each a single text its
 * check turns into the DTO's value: `limit=5` becomes 5, as the decorators' transform makes it).
 * Returns a new object holding the converted values.
 */
export function acceptQuery<T>(fields: Readonly<Record<string, QueryFieldCheck>>): Accepter<T> {
  const checks = new Map(Object.entries(fields));
  return (value: unknown): T | undefined => {
    if (!isPlainRecord(value)) {
      return undefined;
    }
    const accepted: Record<string, unknown> = {};
    for (const name of Object.keys(value)) {
      const converted = checks.get(name)?.(value[name]);
      if (converted === undefined) {
        return undefined;
      }
      accepted[name] = converted;
    }
    return accepted as T;
  };
}

/** An array of `min`-`max` items, each accepted by `item`. */
export function acceptArray(min: number, max: number, item: Accepter<unknown>): FieldCheck {
  return (value: unknown) => Array.isArray(value) && value.length >= min && value.length <= max && value.every((element) => item(element) !== undefined);
}

/**
 * The value `metatype` accepts without the validation libraries, or undefined. Only the class's
 * own `accept` counts: a subclass inherits static members, not its parent's rules.
 */
export function acceptQuickly(metatype: unknown, value: unknown): unknown {
  return typeof metatype === 'function' && Object.prototype.hasOwnProperty.call(metatype, 'accept') ? (metatype as unknown as FastAccepting).accept(value) : undefined;
}
