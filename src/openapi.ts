import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { API_KEY_HEADER } from './common/auth/api-key.guard';

export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Inventory service')
    .setDescription(
      'The single authority for a retail chain’s stock levels. Every change carries the version it is based on ' +
        '(optimistic concurrency: a stale version gets 409) and an idempotency key (a retry returns the stored answer, never applies twice). ' +
        'Errors other than update results are RFC 9457 problem details (`application/problem+json`). ' +
        'Authenticate with the `X-API-Key` header (the demo key is `demo`).',
    )
    .setVersion('1.0.0')
    .addApiKey({ type: 'apiKey', name: API_KEY_HEADER, in: 'header', description: 'API key (demo: `demo`)' }, 'api-key')
    .build();
  return SwaggerModule.createDocument(app, config);
}

/** Swagger UI at /docs, the OpenAPI document at /docs-json. */
export function setupOpenApi(app: INestApplication): void {
  SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app), {
    jsonDocumentUrl: 'docs-json',
    swaggerOptions: { persistAuthorization: true, displayRequestDuration: true },
  });
}
