import { createParamDecorator, type ExecutionContext, Injectable, type PipeTransform } from '@nestjs/common';
import type { Request } from 'express';
import { ApiError, type FieldIssue } from '../common/errors/api-error';
import { createValidationPipe, oversizedArrayIssues } from '../common/http/validation';
import { IdempotencyFastPath } from '../idempotency/idempotency-fast-path';
import { type HeaderKey, IDEMPOTENCY_KEY_HEADER, idempotencyKeyHeaderOf, resolveIdempotencyKey } from '../idempotency/idempotency-key';
import type { StoredResponse } from '../idempotency/stored-response';
import type { ChangeNote, UpdateCommand } from './domain/update-command';
import { InventoryBatchUpdateCreateDto, InventoryUpdateCreateDto, MAX_BATCH_ITEMS } from './dto/inventory-update.dto';

/** What an update request carries before validation: the body, the key header, and who sends it. */
export interface RawUpdateRequest {
  readonly body: unknown;
  readonly idempotencyKeyHeader: HeaderKey;
  readonly clientId: string | undefined;
}

export const RawUpdate = createParamDecorator((_data: unknown, context: ExecutionContext): RawUpdateRequest => {
  const request = context.switchToHttp().getRequest<Request>();
  return { body: request.body, idempotencyKeyHeader: idempotencyKeyHeaderOf(request), clientId: request.client?.id };
});

export type UpdateRequest =
  | { readonly kind: 'replay'; readonly response: StoredResponse }
  | { readonly kind: 'single'; readonly command: UpdateCommand }
  | { readonly kind: 'batch'; readonly storeId: string; readonly atomic: boolean; readonly commands: readonly UpdateCommand[] };

/**
 * An exact retry of a completed single update is answered from the idempotency cache before
 * anything else. Otherwise one endpoint takes two shapes: a body with `updates` is a batch,
 * anything else a single update. Each is validated as its own DTO with the global validation
 * rules, together with the idempotency-key rules, so one 400 names every field at fault.
 */
@Injectable()
export class UpdateRequestPipe implements PipeTransform<RawUpdateRequest, Promise<UpdateRequest>> {
  private readonly validation = createValidationPipe();

  constructor(private readonly fastPath: IdempotencyFastPath) {}

  async transform({ body, idempotencyKeyHeader, clientId }: RawUpdateRequest): Promise<UpdateRequest> {
    const replay = this.fastPath.replayOf(clientId, body, idempotencyKeyHeader);
    if (replay !== undefined) {
      return { kind: 'replay', response: replay };
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw ApiError.invalidField('body', 'must be a JSON object: a single update or a batch with `updates`');
    }
    const issues: FieldIssue[] = [];
    if ('updates' in body) {
      const oversized = oversizedArrayIssues(InventoryBatchUpdateCreateDto, body);
      if (oversized.length > 0) {
        throw ApiError.validation(oversized);
      }
      // Nested validation looks inside a non-array `updates` or an array item that is not an
      // object, instead of refusing it, and names fields that are not there: refuse them here.
      const notObjects = Array.isArray(body.updates) ? itemsThatAreNotObjects(body.updates) : ['updates'];
      issues.push(...notObjects.map((field) => ({ field, issue: field === 'updates' ? `must be an array of 1-${MAX_BATCH_ITEMS} updates` : 'must be an object' })));
      const batch = await this.validate(InventoryBatchUpdateCreateDto, body, issues, notObjects);
      if (idempotencyKeyHeader !== undefined) {
        issues.push({ field: IDEMPOTENCY_KEY_HEADER, issue: 'is not accepted on a batch; each item carries its own idempotencyKey' });
      }
      if (batch !== undefined) {
        issues.push(...duplicateKeys(batch));
      }
      if (batch === undefined || issues.length > 0) {
        throw ApiError.validation(issues);
      }
      const commands = batch.updates.map((item) => ({
        storeId: batch.storeId,
        productId: item.productId,
        delta: item.delta,
        expectedVersion: item.version,
        idempotencyKey: item.idempotencyKey,
        ...noteOf(item),
      }));
      return { kind: 'batch', storeId: batch.storeId, atomic: batch.atomic ?? false, commands };
    }

    const single = await this.validate(InventoryUpdateCreateDto, body, issues);
    const keyFieldInvalid = issues.some((issue) => issue.field === 'idempotencyKey');
    const key = keyFieldInvalid ? undefined : resolveIdempotencyKey(idempotencyKeyHeader, single?.idempotencyKey ?? fieldOf(body));
    if (key !== undefined && 'issue' in key) {
      issues.push(key.issue);
    }
    if (single === undefined || key === undefined || 'issue' in key) {
      throw ApiError.validation(issues);
    }
    const { storeId, productId, delta, version } = single;
    return { kind: 'single', command: { storeId, productId, delta, expectedVersion: version, idempotencyKey: key.key, ...noteOf(single) } };
  }

  /** Validates `body` as `metatype`, adding its issues (except those under `reported` paths). */
  private async validate<T extends object>(metatype: new () => T, body: object, issues: FieldIssue[], reported: readonly string[] = []): Promise<T | undefined> {
    try {
      const dto = (await this.validation.transform(body, { type: 'body', metatype })) as T;
      return reported.length === 0 ? dto : undefined;
    } catch (error) {
      if (error instanceof ApiError && error.options.errors !== undefined) {
        issues.push(...error.options.errors.filter((issue) => !reported.some((path) => issue.field.startsWith(path))));
        return undefined;
      }
      throw error;
    }
  }
}

function itemsThatAreNotObjects(updates: readonly unknown[]): string[] {
  return updates.flatMap((item: unknown, index) => (typeof item === 'object' && item !== null && !Array.isArray(item) ? [] : [`updates[${index}]`]));
}

/** The optional reason and reference, without keys for absent ones. */
export function noteOf({ reason, reference }: ChangeNote): ChangeNote {
  return { ...(reason === undefined ? {} : { reason }), ...(reference === undefined ? {} : { reference }) };
}

/** The raw idempotencyKey of a body that failed validation elsewhere (known valid or absent here). */
function fieldOf(body: object): string | undefined {
  const value = (body as { idempotencyKey?: unknown }).idempotencyKey;
  return typeof value === 'string' ? value : undefined;
}

/** Two items with one key would make the second a replay of the first: almost surely a bug. */
function duplicateKeys(batch: InventoryBatchUpdateCreateDto): FieldIssue[] {
  const firstIndex = new Map<string, number>();
  const issues: FieldIssue[] = [];
  batch.updates.forEach((item, index) => {
    const earlier = firstIndex.get(item.idempotencyKey);
    if (earlier === undefined) {
      firstIndex.set(item.idempotencyKey, index);
    } else {
      issues.push({ field: `updates[${index}].idempotencyKey`, issue: `repeats updates[${earlier}].idempotencyKey; keys must be unique within a batch` });
    }
  });
  return issues;
}
