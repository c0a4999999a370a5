import { Body, Controller, Get, HttpCode, Param, Post, Res } from '@nestjs/common';
import { ApiBody, ApiCreatedResponse, ApiHeader, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Client } from '../common/auth/client';
import { CurrentClient } from '../common/auth/current-client.decorator';
import { ApiAuthenticatedRoute, ApiProblemResponse, RETRY_AFTER_HEADER } from '../common/errors/api-problem-response.decorator';
import { ApiError } from '../common/errors/api-error';
import { CurrentRequest } from '../common/http/current-request.decorator';
import type { RequestLog } from '../common/logging';
import { type HeaderKey, IDEMPOTENCY_KEY_HEADER, resolveIdempotencyKey } from '../idempotency/idempotency-key';
import { IdempotencyKeyHeader } from '../idempotency/idempotency-key-header.decorator';
import { sendReply } from '../inventory/update-reply';
import { ReservationCommitDto, ReservationCreateDto, ReservationExtendDto, ReservationIdParamsDto, ReservationResponseDto } from './dto/reservation.dto';
import { ReservationsService } from './reservations.service';

const NOT_FOUND = 'RESERVATION_NOT_FOUND: no reservation has this id.';
const NOT_ACTIVE = 'RESERVATION_NOT_ACTIVE: already committed or released (`reservationStatus` tells which).';
const UNAVAILABLE = 'QUEUE_FULL, SHUTTING_DOWN or DATABASE_UNAVAILABLE: nothing was done; retry.';

@ApiTags('reservations')
@ApiSecurity('api-key')
@ApiAuthenticatedRoute()
@Controller('v1/reservations')
export class ReservationsController {
  constructor(private readonly reservations: ReservationsService) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({
    summary: 'Hold a cart’s lines in one store while the customer pays',
    description:
      'All lines are held or none; lines of one product are added up. No version is needed: availability (on hand less what other reservations hold) ' +
      'is decided inside the transaction, so holds on a hot SKU do not conflict. The hold lasts `ttlSeconds` (default RESERVATION_TTL_SECONDS), ' +
      'then goes back by itself unless committed or extended. Idempotent: a retry with the same key and payload returns the stored answer.',
  })
  @ApiHeader({ name: IDEMPOTENCY_KEY_HEADER, required: false, description: 'The idempotency key, instead of (or equal to) the `idempotencyKey` field. Bare or quoted.' })
  @ApiCreatedResponse({ type: ReservationResponseDto })
  @ApiProblemResponse(404, 'LEVEL_NOT_FOUND: a line names a product with no level in this store (`productIds`); nothing was held.')
  @ApiProblemResponse(409, 'INSUFFICIENT_AVAILABLE: `lines` names each short line with `requested` and `available`; nothing was held.')
  @ApiProblemResponse(422, 'IDEMPOTENCY_KEY_REUSED: the key was used before with a different payload.')
  @ApiProblemResponse(504, 'PROCESSING_TIMEOUT: not finished in time; retry with the same key to learn the outcome.')
  async reserve(
    @Body() body: ReservationCreateDto,
    @IdempotencyKeyHeader() header: HeaderKey,
    @CurrentClient() client: Client,
    @CurrentRequest() log: RequestLog,
    @Res({ passthrough: true }) response: Response,
  ): Promise<string> {
    const key = resolveIdempotencyKey(header, body.idempotencyKey);
    if ('issue' in key) {
      throw ApiError.validation([key.issue]);
    }
    const { storeId, lines, ttlSeconds, reference } = body;
    const reply = await this.reservations.reserve(client, { storeId, lines, ttlSeconds, reference, idempotencyKey: key.key }, log);
    if (reply.status === 201) {
      response.setHeader('Location', `/v1/reservations/${(JSON.parse(reply.body) as ReservationResponseDto).reservationId}`);
    }
    return sendReply(response, reply);
  }

  @Get(':reservationId')
  @ApiOperation({ summary: 'A reservation: its lines, status (active, committed, released or expired) and expiry' })
  @ApiOkResponse({ type: ReservationResponseDto })
  @ApiProblemResponse(404, NOT_FOUND)
  find(@Param() { reservationId }: ReservationIdParamsDto, @CurrentClient() client: Client): Promise<ReservationResponseDto> {
    return this.reservations.find(client, reservationId);
  }

  @Post(':reservationId/commit')
  @HttpCode(200)
  @ApiOperation({
    summary: 'The order is placed: sell what is held (or fewer units; the rest is released)',
    description:
      'On hand and reserved both drop. Without `lines` every held unit is sold; with `lines`, each listed product sells the given units (at most those held) and ' +
      'products left out sell none. Repeating the same commit answers the same. A hold that has expired is still committed when its units are available then, taken at once; ' +
      'otherwise 409 RESERVATION_EXPIRED.',
  })
  @ApiBody({ type: ReservationCommitDto, required: false })
  @ApiOkResponse({ type: ReservationResponseDto })
  @ApiProblemResponse(404, NOT_FOUND)
  @ApiProblemResponse(409, `${NOT_ACTIVE} RESERVATION_EXPIRED: the hold ran out and \`lines\` are short now.`)
  @ApiProblemResponse(503, UNAVAILABLE, RETRY_AFTER_HEADER)
  async commit(
    @Param() { reservationId }: ReservationIdParamsDto,
    @Body() body: ReservationCommitDto,
    @CurrentClient() client: Client,
    @CurrentRequest() log: RequestLog,
    @Res({ passthrough: true }) response: Response,
  ): Promise<string> {
    return sendReply(response, await this.reservations.commit(client, reservationId, body.lines, log));
  }

  @Post(':reservationId/release')
  @HttpCode(200)
  @ApiOperation({ summary: 'The cart is abandoned: the held units become available again', description: 'Repeating it, or releasing an expired hold, answers the reservation as it is.' })
  @ApiOkResponse({ type: ReservationResponseDto })
  @ApiProblemResponse(404, NOT_FOUND)
  @ApiProblemResponse(409, NOT_ACTIVE)
  @ApiProblemResponse(503, UNAVAILABLE, RETRY_AFTER_HEADER)
  async release(
    @Param() { reservationId }: ReservationIdParamsDto,
    @Body() body: unknown,
    @CurrentClient() client: Client,
    @CurrentRequest() log: RequestLog,
    @Res({ passthrough: true }) response: Response,
  ): Promise<string> {
    // A release takes no fields: any sent is refused, as elsewhere.
    const fields = typeof body === 'object' && body !== null ? Object.keys(body) : [];
    if (fields.length > 0 || Array.isArray(body)) {
      throw ApiError.validation(fields.map((field) => ({ field, issue: 'unknown field' })).concat(Array.isArray(body) ? [{ field: 'body', issue: 'must be empty or {}' }] : []));
    }
    return sendReply(response, await this.reservations.release(client, reservationId, log));
  }

  @Post(':reservationId/extend')
  @HttpCode(200)
  @ApiOperation({ summary: 'Payment is still in flight: the hold lasts `ttlSeconds` from now' })
  @ApiOkResponse({ type: ReservationResponseDto })
  @ApiProblemResponse(404, NOT_FOUND)
  @ApiProblemResponse(409, `${NOT_ACTIVE} RESERVATION_EXPIRED: the hold has already run out; reserve again.`)
  @ApiProblemResponse(503, UNAVAILABLE, RETRY_AFTER_HEADER)
  async extend(
    @Param() { reservationId }: ReservationIdParamsDto,
    @Body() body: ReservationExtendDto,
    @CurrentClient() client: Client,
    @CurrentRequest() log: RequestLog,
    @Res({ passthrough: true }) response: Response,
  ): Promise<string> {
    return sendReply(response, await this.reservations.extend(client, reservationId, body.ttlSeconds, log));
  }
}
