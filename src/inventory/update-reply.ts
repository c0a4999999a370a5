import type { Response } from 'express';
import { IDEMPOTENT_REPLAYED_HEADER } from '../idempotency/idempotency-key';

/** An HTTP answer decided in the update queue: status, exact body, its type, and whether it is a replay. */
export interface UpdateReply {
  readonly status: number;
  readonly body: string;
  readonly contentType?: string;
  readonly replayed: boolean;
}

/** Sends the reply's exact bytes (a replay is byte for byte its original), marking replays. */
export function sendReply(response: Response, reply: UpdateReply): string {
  response.status(reply.status).type(reply.contentType ?? 'application/json');
  if (reply.replayed) {
    response.setHeader(IDEMPOTENT_REPLAYED_HEADER, 'true');
  }
  return reply.body;
}
