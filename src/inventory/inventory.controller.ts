import { Body, Controller, Get, Headers, HttpCode, Param, Post, Put, Query, Res } from '@nestjs/common';
import { ApiBody, ApiExtraModels, ApiHeader, ApiOkResponse, ApiOperation, ApiResponse, ApiSecurity, ApiTags, getSchemaPath } from '@nestjs/swagger';
import type { Response } from 'express';
import { Client } from '../common/auth/client';
import { CurrentClient } from '../common/auth/current-client.decorator';
import { ApiAuthenticatedRoute, ApiProblemResponse, RETRY_AFTER_HEADER } from '../common/errors/api-problem-response.decorator';
import { ApiError, type FieldIssue } from '../common/errors/api-error';
import { AdminOnly } from '../common/auth/admin-only.decorator';
import { CurrentRequest } from '../common/http/current-request.decorator';
import { sendJsonText } from '../common/http/json-text';
import type { RequestLog } from '../common/logging';
import { type HeaderKey, IDEMPOTENCY_KEY_HEADER, IDEMPOTENT_REPLAYED_HEADER } from '../idempotency/idempotency-key';
import { IdempotencyKeyHeader } from '../idempotency/idempotency-key-header.decorator';
import type { SetLevelCommand } from './domain/update-command';
import { InventoryBatchItemDto, InventoryBatchUpdateCreateDto, InventoryUpdateCreateDto, StockLevelSetDto } from './dto/inventory-update.dto';
import { HistoryQueryDto, HistoryResponseDto } from '../changes/dto/change.dto';
import {
  ProductParamsDto,
  ProductStockResponseDto,
  StockLevelListQueryDto,
  StockLevelListResponseDto,
  StockLevelParamsDto,
  StockLevelResponseDto,
  StoreParamsDto,
} from './dto/stock-level.dto';
import { InventoryBatchUpdateResponseDto, InventoryUpdateFailureResponseDto, InventoryUpdateResponseDto } from './dto/update-result.dto';
import { InventoryService } from './inventory.service';
import { sendReply } from './update-reply';
import { UPDATE_EXAMPLES } from './openapi-examples';
import { noteOf, RawUpdate, type UpdateRequest, UpdateRequestPipe } from './update-request.pipe';

const DEFAULT_LIST_PAGE = 100;
const DEFAULT_HISTORY_PAGE = 50;

const REPLAYED_HEADER_DOC = {
  [IDEMPOTENT_REPLAYED_HEADER]: { description: '`true` when this is the stored answer of an earlier request with the same key.', schema: { type: 'string', enum: ['true'] } },
};

@ApiTags('inventory')
@ApiSecurity('api-key')
@ApiAuthenticatedRoute()
@ApiExtraModels(InventoryUpdateCreateDto, InventoryBatchUpdateCreateDto, InventoryBatchItemDto, InventoryUpdateResponseDto, InventoryUpdateFailureResponseDto, InventoryBatchUpdateResponseDto)
@Controller('v1')
export class InventoryController {
  constructor(private readonly inventory: InventoryService) {}

  @Post('inventory/updates')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Change stock: one update, or a batch for one store',
    description:
      'Optimistic concurrency: `version` must be the level’s current version, else 409 VERSION_CONFLICT with `currentVersion`. ' +
      'Idempotent: every update carries a key; a retry with the same key and payload returns the stored answer with `Idempotent-Replayed: true`, ' +
      'the same key with another payload is refused with 422. A batch answers 200 with one result per item; with `atomic: true` all items apply or none.',
  })
  @ApiHeader({
    name: IDEMPOTENCY_KEY_HEADER,
    required: false,
    description:
      'Single updates only: the idempotency key, instead of (or equal to) the `idempotencyKey` field. Bare (`k1`) or as a Structured Field string (`"k1"`); sent once, with one key.',
  })
  @ApiBody({
    schema: { oneOf: [{ $ref: getSchemaPath(InventoryUpdateCreateDto) }, { $ref: getSchemaPath(InventoryBatchUpdateCreateDto) }] },
    examples: UPDATE_EXAMPLES,
  })
  @ApiOkResponse({
    description: 'Single update applied, or a batch processed (see each item’s result).',
    headers: REPLAYED_HEADER_DOC,
    schema: { oneOf: [{ $ref: getSchemaPath(InventoryUpdateResponseDto) }, { $ref: getSchemaPath(InventoryBatchUpdateResponseDto) }] },
  })
  @ApiResponse({ status: 404, description: 'Single update: no stock level for this store and product (LEVEL_NOT_FOUND).', type: InventoryUpdateFailureResponseDto, headers: REPLAYED_HEADER_DOC })
  @ApiResponse({ status: 409, description: 'Single update: VERSION_CONFLICT, INSUFFICIENT_STOCK or QUANTITY_LIMIT_EXCEEDED; nothing changed.', type: InventoryUpdateFailureResponseDto, headers: REPLAYED_HEADER_DOC })
  @ApiProblemResponse(413, 'Body larger than the limit.')
  @ApiProblemResponse(415, 'Body is not application/json.')
  @ApiProblemResponse(422, 'IDEMPOTENCY_KEY_REUSED: the key was used before with a different payload.')
  @ApiProblemResponse(503, 'QUEUE_FULL, SHUTTING_DOWN or DATABASE_UNAVAILABLE: not applied; retry after the given delay with the same key.', RETRY_AFTER_HEADER)
  @ApiProblemResponse(504, 'PROCESSING_TIMEOUT: not finished in time; it may still apply. Retry with the same key to learn the outcome.')
  async postUpdates(
    @RawUpdate(UpdateRequestPipe) request: UpdateRequest,
    @CurrentClient() client: Client,
    @CurrentRequest() log: RequestLog,
    @Res({ passthrough: true }) response: Response,
  ): Promise<string> {
    if (request.kind === 'replay') {
      log.info({ outcome: 'replayed', status: request.response.status, source: 'cache' }, 'idempotent replay');
      return sendReply(response, { ...request.response, replayed: true });
    }
    const reply =
      request.kind === 'batch'
        ? await this.inventory.applyBatch(client, request.storeId, request.commands, request.atomic, log)
        : await this.inventory.applyUpdate(client, request.command, log);
    return sendReply(response, reply);
  }

  @Get('inventory/:productId')
  @ApiOperation({ summary: 'Stock of one product across the stores this key may see' })
  @ApiOkResponse({ type: ProductStockResponseDto })
  @ApiProblemResponse(404, 'PRODUCT_NOT_FOUND: no level of this product in any store visible to the key.')
  async getProduct(@Param() { productId }: ProductParamsDto, @CurrentClient() client: Client): Promise<ProductStockResponseDto> {
    const levels = await this.inventory.findLevelsOfProduct(client, productId);
    if (levels.length === 0) {
      throw new ApiError('PRODUCT_NOT_FOUND', `no stock level of product ${productId} in the stores this key may see`);
    }
    return ProductStockResponseDto.of(productId, levels);
  }

  @Get('stores/:storeId/inventory')
  @ApiOperation({
    summary: 'A store’s levels, page by page',
    description: 'Keyset pagination by productId: pages stay consistent while levels change, and no level is skipped or repeated.',
  })
  @ApiOkResponse({ type: StockLevelListResponseDto })
  async listLevels(
    @Param() { storeId }: StoreParamsDto,
    @Query() query: StockLevelListQueryDto,
    @CurrentClient() client: Client,
    @Res() response: Response,
  ): Promise<void> {
    const page = await this.inventory.listLevels(client, storeId, query.cursor, query.limit ?? DEFAULT_LIST_PAGE);
    // A StockLevelListResponseDto, written out around the items the database rendered.
    sendJsonText(response, `{"items":${page.items},"nextCursor":${JSON.stringify(page.nextCursor)},"lastSeq":${page.lastSeq}}`);
  }

  @Get('stores/:storeId/inventory/:productId/history')
  @ApiOperation({ summary: 'A level’s history: its ledger entries, newest first' })
  @ApiOkResponse({ type: HistoryResponseDto })
  @ApiProblemResponse(404, 'LEVEL_NOT_FOUND: no stock level for this store and product.')
  async history(
    @Param() { storeId, productId }: StockLevelParamsDto,
    @Query() query: HistoryQueryDto,
    @CurrentClient() client: Client,
    @Res() response: Response,
  ): Promise<void> {
    const page = await this.inventory.history(client, storeId, productId, query.cursor, query.limit ?? DEFAULT_HISTORY_PAGE);
    // A HistoryResponseDto, written out around the items the database rendered.
    sendJsonText(
      response,
      `{"items":${page.items},"nextCursor":${JSON.stringify(page.nextCursor)},"prunedThroughSeq":${page.prunedThroughSeq},"retention":${JSON.stringify(page.retention)}}`,
    );
  }

  @Put('stores/:storeId/inventory/:productId')
  @AdminOnly()
  @ApiOperation({
    summary: 'Create a level, or set its absolute quantity (admin keys)',
    description:
      'Without a version, creates the level (201, version 1); an existing level then answers 428. To change an existing level, name its current ' +
      'version in `version` (a stale one: 409) or in `If-Match: "<version>"` (a stale one: 412). The ledger records the change (kind create or set) ' +
      'with its reason and reference. An optional Idempotency-Key makes retries replay the first answer.',
  })
  @ApiHeader({ name: 'If-Match', required: false, description: 'The level’s current version as its ETag, e.g. `"12"`.' })
  @ApiHeader({
    name: IDEMPOTENCY_KEY_HEADER,
    required: false,
    description: 'Optional: a retry with the same key and body replays the stored answer (not of a 412 or 428). Bare (`k1`) or quoted (`"k1"`).',
  })
  @ApiResponse({ status: 200, description: 'Set.', type: StockLevelResponseDto, headers: { ETag: { description: 'The new version.', schema: { type: 'string' } } } })
  @ApiResponse({ status: 201, description: 'Created at version 1.', type: StockLevelResponseDto, headers: { ETag: { schema: { type: 'string' } }, Location: { schema: { type: 'string' } } } })
  @ApiProblemResponse(403, 'ADMIN_REQUIRED: not an admin key (or STORE_FORBIDDEN).')
  @ApiProblemResponse(404, 'LEVEL_NOT_FOUND: a version was given for a level that does not exist.')
  @ApiProblemResponse(409, 'VERSION_CONFLICT: `version` is stale; `currentVersion` has the current one.')
  @ApiProblemResponse(412, 'PRECONDITION_FAILED: If-Match is stale, or names a level that does not exist.')
  @ApiProblemResponse(422, 'IDEMPOTENCY_KEY_REUSED: the key was used before with a different request.')
  @ApiProblemResponse(428, 'PRECONDITION_REQUIRED: the level exists; send its version to change it.')
  @ApiProblemResponse(503, 'QUEUE_FULL, SHUTTING_DOWN or DATABASE_UNAVAILABLE: not applied; retry.', RETRY_AFTER_HEADER)
  async setLevel(
    @Param() { storeId, productId }: StockLevelParamsDto,
    @Body() body: StockLevelSetDto,
    @Headers('if-match') ifMatch: string | undefined,
    @IdempotencyKeyHeader() idempotencyKey: HeaderKey,
    @CurrentClient() client: Client,
    @CurrentRequest() log: RequestLog,
    @Res({ passthrough: true }) response: Response,
  ): Promise<string> {
    const reply = await this.inventory.setLevel(client, setCommandOf(storeId, productId, body, ifMatch, idempotencyKey), log);
    if (reply.status === 200 || reply.status === 201) {
      const level = JSON.parse(reply.body) as { version: number };
      response.setHeader('ETag', `"${level.version}"`);
      if (reply.status === 201) {
        response.setHeader('Location', `/v1/stores/${storeId}/inventory/${productId}`);
      }
    }
    return sendReply(response, reply);
  }

  @Get('stores/:storeId/inventory/:productId')
  @ApiOperation({ summary: 'One stock level, with its version as ETag', description: 'Send `If-None-Match` with the ETag to get 304 while the level is unchanged.' })
  @ApiOkResponse({ type: StockLevelResponseDto, headers: { ETag: { description: 'The level’s version, quoted: `"13"`.', schema: { type: 'string' } } } })
  @ApiResponse({ status: 304, description: 'Unchanged since the ETag sent in If-None-Match.' })
  @ApiProblemResponse(404, 'LEVEL_NOT_FOUND: no stock level for this store and product.')
  async getLevel(
    @Param() { storeId, productId }: StockLevelParamsDto,
    @CurrentClient() client: Client,
    @Res({ passthrough: true }) response: Response,
  ): Promise<StockLevelResponseDto> {
    const level = await this.inventory.findLevel(client, storeId, productId);
    if (level === undefined) {
      throw new ApiError('LEVEL_NOT_FOUND', `no stock level for product ${productId} in store ${storeId}`);
    }
    response.setHeader('ETag', `"${level.version}"`);
    response.setHeader('Cache-Control', 'private, no-cache');
    response.setHeader('Vary', 'X-API-Key');
    return StockLevelResponseDto.of(level);
  }
}

/** The set command of a PUT: the expected version from the body or If-Match (equal if both). */
function setCommandOf(storeId: string, productId: string, body: StockLevelSetDto, ifMatch: string | undefined, idempotencyKey: HeaderKey): SetLevelCommand {
  const issues: FieldIssue[] = [];
  // The ETag is exactly the version's digits: "08" is another tag than "8" (strong comparison).
  const matched = ifMatch === undefined ? undefined : /^"(0|[1-9]\d{0,15})"$/.exec(ifMatch.trim());
  const headerVersion = matched?.[1] === undefined ? undefined : Number(matched[1]);
  if (ifMatch?.trim() === '*') {
    // RFC 9110's "any current version" would overwrite whatever changed since the client read the level.
    issues.push({ field: 'If-Match', issue: 'must name the version the change is based on, e.g. "12"; * (any version) is not accepted' });
  } else if (ifMatch !== undefined && (headerVersion === undefined || !Number.isSafeInteger(headerVersion))) {
    issues.push({ field: 'If-Match', issue: 'must be one strong ETag holding the level’s version, e.g. "12"' });
  }
  if (headerVersion !== undefined && body.version !== undefined && headerVersion !== body.version) {
    issues.push({ field: 'If-Match', issue: 'names another version than the body; send one, or both equal' });
  }
  if (idempotencyKey !== undefined && 'issue' in idempotencyKey) {
    issues.push(idempotencyKey.issue);
  }
  if (issues.length > 0) {
    throw ApiError.validation(issues);
  }
  const expectedVersion = body.version ?? headerVersion;
  return {
    storeId,
    productId,
    quantity: body.quantity,
    ...(expectedVersion === undefined ? {} : { expectedVersion, precondition: headerVersion === undefined ? 'version' : 'if-match' }),
    ...(idempotencyKey !== undefined && 'key' in idempotencyKey ? { idempotencyKey: idempotencyKey.key } : {}),
    ...noteOf(body),
  };
}
