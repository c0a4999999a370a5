/** One Server-Sent Events block, as the WHATWG parsing rules read it. */
export interface SseMessage {
  /** `event:` (absent for the default type, `message`). */
  readonly event?: string;
  /** The `data:` lines joined by newlines; absent when the block had none. */
  readonly data?: string;
  /** `id:`; absent when the block set none. */
  readonly id?: string;
  /** Comment lines (`: heartbeat`). */
  readonly comments: readonly string[];
}

/**
 * An incremental Server-Sent Events parser: feed it text as it arrives, in chunks cut anywhere,
 * and it returns the blocks completed by each chunk. Blocks that set only an `id` (the service's
 * heartbeats carry one, to move the resume position) are returned too, unlike in a browser.
 */
export class SseParser {
  private buffer = '';
  private pending: { event?: string; data: string[]; id?: string; comments: string[] } = { data: [], comments: [] };
  private dirty = false;

  push(text: string): SseMessage[] {
    this.buffer += text;
    const messages: SseMessage[] = [];
    for (;;) {
      const end = this.buffer.search(/\r\n|\r|\n/);
      // A lone \r at the end of a chunk may be the first half of \r\n.
      if (end < 0 || (end === this.buffer.length - 1 && this.buffer[end] === '\r')) {
        break;
      }
      const line = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + (this.buffer.startsWith('\r\n', end) ? 2 : 1));
      if (line === '') {
        if (this.dirty) {
          messages.push(this.take());
        }
        continue;
      }
      this.field(line);
    }
    return messages;
  }

  private field(line: string): void {
    this.dirty = true;
    if (line.startsWith(':')) {
      this.pending.comments.push(line.slice(1).trimStart());
      return;
    }
    const colon = line.indexOf(':');
    const name = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) {
      value = value.slice(1);
    }
    switch (name) {
      case 'event':
        this.pending.event = value;
        break;
      case 'data':
        this.pending.data.push(value);
        break;
      case 'id':
        if (!value.includes('\0')) {
          this.pending.id = value;
        }
        break;
      default:
      // `retry` and unknown fields: the client's retry policy decides when to reconnect.
    }
  }

  private take(): SseMessage {
    const { event, data, id, comments } = this.pending;
    this.pending = { data: [], comments: [] };
    this.dirty = false;
    return { ...(event === undefined ? {} : { event }), ...(data.length === 0 ? {} : { data: data.join('\n') }), ...(id === undefined ? {} : { id }), comments };
  }
}
