import { Controller, Get, Headers, Query, Req, Res } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiOperation, ApiProduces, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Client } from '../common/auth/client';
import { CurrentClient } from '../common/auth/current-client.decorator';
import { ApiAuthenticatedRoute, ApiProblemResponse } from '../common/errors/api-problem-response.decorator';
import { ApiError } from '../common/errors/api-error';
import { ChangesService } from './changes.service';
import { ChangeResponseDto, ChangesQueryDto, ChangesResponseDto, ChangeStreamQueryDto } from './dto/change.dto';

const DEFAULT_FEED_PAGE = 100;
/** Why a position is refused and what the client does about it, for both routes' 409. */
const POSITION_AHEAD =
  'is beyond the last change of this feed (its seq is in `lastSeq`): the feed was restarted or restored, so following it from there would skip changes. ' +
  'Take a fresh snapshot and follow the feed from its first page’s lastSeq.';
const POSITION_EXPIRED =
  'is older than what the ledger keeps (LEDGER_RETENTION; the last seq pruned is in `prunedThroughSeq`): the changes after it are gone. ' +
  'Take a fresh snapshot and follow the feed from its first page’s lastSeq.';

@ApiTags('changes')
@ApiSecurity('api-key')
@ApiAuthenticatedRoute()
@Controller('v1/changes')
export class ChangesController {
  constructor(private readonly changes: ChangesService) {}

  @Get()
  @ApiOperation({
    summary: 'Changes after a seq, for keeping a copy in sync',
    description:
      'Applied changes with seq > `after`, oldest first, in the stores this key may see. Apply them in order and the copy converges to the ' +
      'central state. When there is nothing newer, the call waits up to `waitSeconds` and answers as soon as a change commits (on any instance).',
  })
  @ApiOkResponse({ type: ChangesResponseDto })
  @ApiProblemResponse(409, `FEED_POSITION_AHEAD: \`after\` ${POSITION_AHEAD}`)
  @ApiProblemResponse(410, `FEED_POSITION_EXPIRED: \`after\` ${POSITION_EXPIRED}`)
  async list(@Query() query: ChangesQueryDto, @CurrentClient() client: Client, @Req() request: Request): Promise<ChangesResponseDto> {
    const left = new AbortController();
    request.on('close', () => left.abort());
    const page = await this.changes.changesAfter(client, query.storeId, query.after ?? 0, query.limit ?? DEFAULT_FEED_PAGE, (query.waitSeconds ?? 0) * 1000, left.signal);
    return { changes: page.changes.map((change) => ChangeResponseDto.of(change)), lastSeq: page.lastSeq };
  }

  @Get('stream')
  @ApiOperation({
    summary: 'The change feed as Server-Sent Events',
    description:
      'Each change is an event `change` with `id:` its seq and the change as JSON `data:`. Reconnecting clients send `Last-Event-ID` ' +
      '(browsers do it themselves) to resume where they left off. An idle stream sends a comment every STREAM_HEARTBEAT_MS. Every stream of an instance is ' +
      'served from one in-memory tail of recent changes, so open streams cost no database reads of their own.',
  })
  @ApiProduces('text/event-stream')
  @ApiHeader({ name: 'Last-Event-ID', required: false, description: 'Resume after this seq.' })
  @ApiOkResponse({ description: 'An endless text/event-stream.' })
  @ApiProblemResponse(409, `FEED_POSITION_AHEAD: Last-Event-ID (or \`after\`) ${POSITION_AHEAD} Answered instead of the stream.`)
  @ApiProblemResponse(
    410,
    `FEED_POSITION_EXPIRED: Last-Event-ID (or \`after\`) ${POSITION_EXPIRED} Answered instead of the stream; a running stream that falls that far behind ends with an \`expired\` event carrying this problem.`,
  )
  async stream(
    @Query() query: ChangeStreamQueryDto,
    @Headers('last-event-id') lastEventId: string | undefined,
    @CurrentClient() client: Client,
    @Res() response: Response,
  ): Promise<void> {
    await this.changes.stream(client, query.storeId, resumeFrom(lastEventId, query.after), response);
  }
}

/**
 * The position a stream starts after. An empty Last-Event-ID is what an event source that has
 * seen no id holds (the HTML standard has it not send one; a proxy may pass it on empty anyway).
 */
function resumeFrom(lastEventId: string | undefined, after: number | undefined): number {
  if (lastEventId === undefined || lastEventId === '') {
    return after ?? 0;
  }
  const seq = /^\d{1,16}$/.test(lastEventId) ? Number(lastEventId) : Number.NaN;
  if (!Number.isSafeInteger(seq)) {
    throw ApiError.invalidField('Last-Event-ID', 'must be the id (seq) of an event of this stream');
  }
  return seq;
}
