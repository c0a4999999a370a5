import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy from an ephemeral port on 127.0.0.1 to `targetHost:targetPort`, for simulating a
 * database outage between a service and its database: `cut()` drops every open connection (both
 * sides see them end) and stops listening, so new connects are refused (ECONNREFUSED);
 * `restore()` listens again on the same port. Socket errors are swallowed: a proxy that is being
 * cut is expected to see resets.
 */
export class TcpProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private closed = false;

  private constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
    private listenPort: number,
  ) {}

  /** Starts a proxy listening on an ephemeral port of 127.0.0.1. */
  static async start(targetHost: string, targetPort: number): Promise<TcpProxy> {
    const proxy = new TcpProxy(targetHost, targetPort, 0);
    await proxy.listen();
    return proxy;
  }

  /** The local port; the same across cut() and restore(). */
  get port(): number {
    return this.listenPort;
  }

  get listening(): boolean {
    return this.server !== undefined;
  }

  /** How many proxied connections (client and upstream sockets) are open. */
  get openSockets(): number {
    return this.sockets.size;
  }

  /** Destroys every open connection and stops accepting: new connects are refused. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    const stopped = server === undefined ? Promise.resolve() : new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.sockets) {
      socket.destroy();
    }
    this.sockets.clear();
    await stopped;
  }

  /** Accepts connections again, on the same port. */
  async restore(): Promise<void> {
    if (this.closed) {
      throw new Error('proxy closed');
    }
    if (this.server === undefined) {
      await this.listen();
    }
  }

  /** Cuts everything for good. */
  async close(): Promise<void> {
    this.closed = true;
    await this.cut();
  }

  private listen(): Promise<void> {
    const server = createServer({ noDelay: true }, (client) => this.relay(client));
    return new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.listenPort, '127.0.0.1', () => {
        server.off('error', reject);
        // Errors of the listening socket after start-up are not the test's concern.
        server.on('error', () => undefined);
        const address = server.address();
        if (typeof address === 'object' && address !== null) {
          this.listenPort = address.port;
        }
        this.server = server;
        resolve();
      });
    });
  }

  private relay(client: Socket): void {
    if (this.server === undefined) {
      // Accepted in the instant the proxy was being cut.
      client.destroy();
      return;
    }
    const upstream = connect({ host: this.targetHost, port: this.targetPort, noDelay: true });
    const pair = [client, upstream];
    const teardown = () => {
      for (const socket of pair) {
        socket.destroy();
        this.sockets.delete(socket);
      }
    };
    for (const socket of pair) {
      this.sockets.add(socket);
      socket.on('error', teardown);
      socket.on('close', teardown);
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
