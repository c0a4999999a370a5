import { SseParser } from './sse';

describe('SseParser', () => {
  const STREAM = 'retry: 2000\n\nid: 41\nevent: change\ndata: {"seq":41}\n\n: heartbeat\nid: 57\n\nid: 58\nevent: change\ndata: {"seq":58}\n\n';

  it('reads the service’s events, heartbeats (with their id) included', () => {
    expect(new SseParser().push(STREAM)).toEqual([
      { comments: [] },
      { id: '41', event: 'change', data: '{"seq":41}', comments: [] },
      { id: '57', comments: ['heartbeat'] },
      { id: '58', event: 'change', data: '{"seq":58}', comments: [] },
    ]);
  });

  it('gives the same events however the text is cut into chunks', () => {
    const whole = new SseParser().push(STREAM);
    for (const size of [1, 2, 3, 7, 16]) {
      const parser = new SseParser();
      const events = [];
      for (let index = 0; index < STREAM.length; index += size) {
        events.push(...parser.push(STREAM.slice(index, index + size)));
      }
      expect(events).toEqual(whole);
    }
  });

  it('takes CRLF and CR line ends, joins data lines, and keeps an incomplete event for later', () => {
    const parser = new SseParser();
    expect(parser.push('event: expired\r\ndata: {"a":\r\ndata:1}\r\n\r')).toEqual([]);
    expect(parser.push('\nid: 3\rdata: x')).toEqual([{ event: 'expired', data: '{"a":\n1}', comments: [] }]);
    // A CR that ends a chunk may be the first half of a CRLF: it counts once the next text shows.
    expect(parser.push('\r\r')).toEqual([]);
    expect(parser.push(': next')).toEqual([{ id: '3', data: 'x', comments: [] }]);
  });
});
