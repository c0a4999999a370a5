import type { NestApplicationOptions } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import type { Express } from 'express';
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Nest's Express adapter, with an HTTP server that builds each request and response as Express's
 * objects from the start.
 *
 * Express gives every request and response its application's prototype (`app.request`,
 * `app.response`) with Object.setPrototypeOf as it enters `app.handle`. On Node 20 that keeps
 * every request's objects alive through the young-generation collections that follow: each
 * scavenge copied 2–3.5 MB and took 2–10 ms, against under 1 KB and 0.3 ms for plain node:http
 * (`--trace-gc-nvp`, one keep-alive connection of GETs; a bare Express app the same). With the
 * objects built on those prototypes by the server itself (`createServer`'s `IncomingMessage` and
 * `ServerResponse` options), Express's setPrototypeOf finds the prototype already in place and
 * changes nothing, and a scavenge copies what a request in flight holds.
 * (`app.request` inherits from IncomingMessage.prototype and `app.response` from
 * ServerResponse.prototype: Node's constructors initialise them as they would their own.)
 */
export class ExpressRequestsAdapter extends ExpressAdapter {
  override initHttpServer(options: NestApplicationOptions): void {
    // The service's options (APP_OPTIONS) have neither; Nest's own handling of them lives in the
    // method this replaces.
    if (options.httpsOptions !== undefined || options.forceCloseConnections === true) {
      throw new Error('ExpressRequestsAdapter serves plain HTTP without forceCloseConnections');
    }
    const app = this.getInstance<Express>();
    const handle = inTurn(app);
    const server = createServer({ IncomingMessage: requestsOf(app.request), ServerResponse: responsesOf(app.response) }, handle);
    // A request with `Expect: 100-continue` goes to the application like any other instead of
    // being sent `100 Continue` at once: JsonBodyGuard sends it when the body is about to be
    // read, after the caller's key and rate were checked.
    server.on('checkContinue', handle);
    this.setHttpServer(server);
  }
}

/**
 * Runs the requests of a connection one after the other. Node hands over a pipelined request as
 * soon as it has parsed it, while the one before it is still being worked on; if that one is then
 * refused with `Connection: close` (a 401, a 415, a 417…), the connection closes with the later
 * request's answer never sent, yet the later request would have run, and an update applied
 * unanswered. Node gives a response its socket once every answer before it on the connection is
 * finished, and never if one of them closed it: a request whose response has no socket yet waits
 * for it, and one parsed after the connection's writing side was closed is not run at all
 * (RFC 9112 §9.6: no request after a close is processed).
 */
function inTurn(handle: (request: IncomingMessage, response: ServerResponse) => void): (request: IncomingMessage, response: ServerResponse) => void {
  return (request, response) => {
    const socket = request.socket as Socket & { _httpMessage?: ServerResponse | null };
    if (!socket.writable) {
      // Parsed from what was left in the buffer after an answer that closed the connection (Node
      // reads on once it has finished that answer).
      socket.destroy();
      return;
    }
    // The response the socket is answering now: this one, or one before it.
    const current = socket._httpMessage;
    if (current === undefined || current === null || current === response) {
      handle(request, response);
    } else {
      response.once('socket', () => handle(request, response));
    }
  };
}

// Node's constructors are plain functions, not classes: callable on an object made elsewhere.
const initRequest = IncomingMessage as unknown as (this: object, socket: Socket) => void;
const initResponse = ServerResponse as unknown as (this: object, request: IncomingMessage, options?: object) => void;

/** IncomingMessage, its instances made with `prototype`. */
function requestsOf(prototype: object): typeof IncomingMessage {
  function ExpressRequest(this: object, socket: Socket): void {
    initRequest.call(this, socket);
  }
  ExpressRequest.prototype = prototype;
  return ExpressRequest as unknown as typeof IncomingMessage;
}

/** ServerResponse, its instances made with `prototype`. */
function responsesOf(prototype: object): typeof ServerResponse {
  function ExpressResponse(this: object, request: IncomingMessage, options?: object): void {
    initResponse.call(this, request, options);
  }
  ExpressResponse.prototype = prototype;
  return ExpressResponse as unknown as typeof ServerResponse;
}
