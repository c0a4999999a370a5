import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet from 'helmet';

/**
 * The documentation pages (Swagger UI: HTML, scripts, styles) get helmet's full set, with a CSP
 * that allows what Swagger UI needs and nothing else; no upgrade-insecure-requests, since the
 * service is usually reached over plain HTTP behind a TLS-terminating proxy (it would break /docs
 * there).
 */
const DOCUMENTATION_HELMET: Parameters<typeof helmet>[0] = {
  contentSecurityPolicy: {
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      frameAncestors: ["'none'"],
      upgradeInsecureRequests: null,
    },
  },
  // Ignored (with a console error) on plain-HTTP origins, and there is no window to isolate.
  crossOriginOpenerPolicy: false,
};

/**
 * Every other answer is JSON (or a plain problem page without scripts or styles): the headers a
 * REST API needs (OWASP's REST security cheat sheet), fixed, set from a precomputed list instead of
 * running helmet's dozen middlewares on every request.
 */
export const API_SECURITY_HEADERS: ReadonlyArray<readonly [string, string]> = [
  ['Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'"],
  ['Cross-Origin-Resource-Policy', 'same-origin'],
  ['Referrer-Policy', 'no-referrer'],
  ['Strict-Transport-Security', 'max-age=31536000; includeSubDomains'],
  ['X-Content-Type-Options', 'nosniff'],
  ['X-Frame-Options', 'DENY'],
];

/** The documentation's paths; routing is case-sensitive (app.factory.ts), so /DOCS is a 404 with the API's headers. */
const DOCUMENTATION_PATH = /^\/docs(?:$|[/?-])/;

function isDocumentation(url: string | undefined): boolean {
  return url !== undefined && DOCUMENTATION_PATH.test(url);
}

/** Security headers on every answer, whatever ends the request (errors and 404s included). */
export function securityHeaders() {
  const documentation = helmet(DOCUMENTATION_HELMET);
  return (request: IncomingMessage, response: ServerResponse, next: (error?: unknown) => void): void => {
    if (isDocumentation(request.url)) {
      documentation(request, response, next);
      return;
    }
    for (const [name, value] of API_SECURITY_HEADERS) {
      response.setHeader(name, value);
    }
    next();
  };
}
