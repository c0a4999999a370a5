/** A minimal Server-Sent Events reader over fetch, for tests. */
export interface SseEvent {
  readonly id?: string;
  readonly event?: string;
  readonly data?: string;
  /** A comment line (heartbeat). */
  readonly comment?: string;
}

export interface SseConnection {
  readonly status: number;
  readonly headers: Headers;
  readonly events: SseEvent[];
  /** Resolves once `predicate` holds for the events received, or rejects after `timeoutMs`. */
  until(predicate: (events: SseEvent[]) => boolean, timeoutMs?: number): Promise<SseEvent[]>;
  close(): void;
}

export async function openSse(url: string, headers: Record<string, string>): Promise<SseConnection> {
  const abort = new AbortController();
  const response = await fetch(url, { headers, signal: abort.signal });
  const events: SseEvent[] = [];
  const listeners = new Set<() => void>();
  void (async () => {
    if (response.body === null) {
      return;
    }
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let boundary = buffer.indexOf('\n\n');
        while (boundary >= 0) {
          const block = buffer.slice(0, boundary);
          buffer = buffer.slice(boundary + 2);
          events.push(parseBlock(block));
          boundary = buffer.indexOf('\n\n');
        }
        listeners.forEach((listener) => listener());
      }
    } catch {
      // closed
    }
  })();
  return {
    status: response.status,
    headers: response.headers,
    events,
    until: (predicate, timeoutMs = 5000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (predicate(events)) {
            clearTimeout(timer);
            listeners.delete(check);
            resolve(events);
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`condition not met in ${timeoutMs} ms; events: ${JSON.stringify(events)}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      }),
    close: () => abort.abort(),
  };
}

function parseBlock(block: string): SseEvent {
  const event: { id?: string; event?: string; data?: string; comment?: string } = {};
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) {
      event.comment = line.slice(1).trim();
    } else {
      const separator = line.indexOf(':');
      const field = line.slice(0, separator);
      const value = line.slice(separator + 1).trimStart();
      if (field === 'id' || field === 'event' || field === 'data') {
        event[field] = value;
      }
    }
  }
  return event;
}
