import { Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';

interface RouterLayer {
  readonly route?: { readonly path: unknown; readonly methods: Readonly<Record<string, boolean>> };
}

interface Route {
  readonly pattern: RegExp;
  readonly methods: readonly string[];
}

/**
 * The methods each path of the application answers, read from the HTTP router once every route
 * is registered: it tells a path that does not exist (404) from a method the path does not take
 * (405 with Allow).
 */
@Injectable()
export class RouteTable {
  private routes: readonly Route[] | undefined;

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  /** The methods `path` answers, GET routes answering HEAD too; empty when no route has the path. */
  methodsOf(path: string): string[] {
    const methods = new Set<string>();
    for (const route of (this.routes ??= this.read())) {
      if (route.pattern.test(path)) {
        route.methods.forEach((method) => methods.add(method));
      }
    }
    if (methods.has('GET')) {
      methods.add('HEAD');
    }
    return [...methods];
  }

  private read(): Route[] {
    const router = this.adapterHost.httpAdapter.getInstance<{ router?: { stack?: RouterLayer[] } }>().router;
    const routes: Route[] = [];
    for (const layer of router?.stack ?? []) {
      const path = layer.route?.path;
      // Only plain paths with :parameters; wildcards belong to middleware, not to routes.
      if (typeof path !== 'string' || /[*{}()?+]/.test(path)) {
        continue;
      }
      const source = path
        .split('/')
        .map((segment) => (segment.startsWith(':') ? '[^/]+' : segment.replace(/[.\\^$|[\]]/g, '\\$&')))
        .join('/');
      // Case-sensitive, as the router is (app.factory.ts); a trailing slash is the same path.
      routes.push({ pattern: new RegExp(`^${source}/?$`), methods: Object.keys(layer.route!.methods).map((method) => method.toUpperCase()) });
    }
    return routes;
  }
}
