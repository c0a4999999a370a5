import { Injectable, type PipeTransform } from '@nestjs/common';
import { ApiError, type FieldIssue } from '../common/errors/api-error';
import { createValidationPipe } from '../common/http/validation';
import { InventoryBatchUpdateCreateDto, InventoryUpdateCreateDto } from './dto/inventory-update.dto';

export type UpdateRequestDto = InventoryUpdateCreateDto | InventoryBatchUpdateCreateDto;

/**
 * One endpoint takes two shapes: a body with `updates` is a batch, anything else a single
 * update. Each is validated as its own DTO with the global validation rules.
 */
@Injectable()
export class UpdateRequestPipe implements PipeTransform<unknown, Promise<UpdateRequestDto>> {
  private readonly validation = createValidationPipe();

  async transform(value: unknown): Promise<UpdateRequestDto> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw ApiError.invalidField('body', 'must be a JSON object: a single update or a batch with `updates`');
    }
    const metatype = 'updates' in value ? InventoryBatchUpdateCreateDto : InventoryUpdateCreateDto;
    const dto = (await this.validation.transform(value, { type: 'body', metatype })) as UpdateRequestDto;
    if (dto instanceof InventoryBatchUpdateCreateDto) {
      assertUniqueKeys(dto);
    }
    return dto;
  }
}

/** Two items with one key would make the second a replay of the first: almost surely a bug. */
function assertUniqueKeys(batch: InventoryBatchUpdateCreateDto): void {
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
  if (issues.length > 0) {
    throw ApiError.validation(issues);
  }
}
