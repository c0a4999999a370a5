import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ERROR_CATALOG } from './api-error';

export class FieldIssueDto {
  @ApiProperty({ example: 'updates[1].delta' })
  field!: string;

  @ApiProperty({ example: 'must be a non-zero integer from -1000000000 to 1000000000' })
  issue!: string;
}

/** RFC 9457 problem details, as documented in the OpenAPI document. */
export class ProblemResponseDto {
  @ApiProperty({ example: '/problems/validation-failed' })
  type!: string;

  @ApiProperty({ example: 'Request validation failed' })
  title!: string;

  @ApiProperty({ example: 400, type: 'integer' })
  status!: number;

  @ApiProperty({ example: 'invalid request: delta' })
  detail!: string;

  @ApiProperty({ enum: Object.keys(ERROR_CATALOG), example: 'VALIDATION_FAILED' })
  code!: string;

  @ApiPropertyOptional({ example: '/v1/inventory/updates' })
  instance?: string;

  @ApiPropertyOptional({ example: '3f1c2a9e-8f0e-4a43-9d8b-2f7d1f0c9b4e' })
  requestId?: string;

  @ApiPropertyOptional({ type: [FieldIssueDto], description: 'Every invalid field (400 only).' })
  errors?: FieldIssueDto[];
}
