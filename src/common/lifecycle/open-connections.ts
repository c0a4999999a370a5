import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * The HTTP server's connections, for the end of a shutdown. Closing the listener waits for every
 * connection to close, and Node closes only those idle between two requests: a connection that
 * has sent nothing yet (a load balancer's or a browser's pre-opened one) or only part of a
 * request would hold the exit until the shutdown deadline, and make it a failure. No such
 * connection is owed anything: its request, if any, was never taken in. So when the grace
 * period ends, those are cut, and connections opened after that are refused; a connection
 * whose request arrived whole keeps it until it is answered.
 */
export class OpenConnections {
  /** Each open connection, with the request it is being answered for, if any (whole once `complete`). */
  private readonly connections = new Map<Socket, IncomingMessage | undefined>();
  private closing = false;

  constructor(server: Server) {
    server.on('connection', (socket: Socket) => {
      if (this.closing) {
        socket.destroy();
        return;
      }
      this.connections.set(socket, undefined);
      socket.once('close', () => this.connections.delete(socket));
    });
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      const { socket } = request;
      if (this.connections.has(socket)) {
        this.connections.set(socket, request);
        response.once('close', () => this.connections.has(socket) && this.connections.set(socket, undefined));
      }
    });
  }

  /** Cuts every connection that is not waiting for the answer to a whole request, and refuses new ones. */
  closeUnowed(): number {
    this.closing = true;
    let cut = 0;
    for (const [socket, request] of this.connections) {
      if (request === undefined || !request.complete) {
        socket.destroy();
        cut += 1;
      }
    }
    return cut;
  }
}
