import { Controller, Get, Header, Param } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiProduces, ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/public.decorator';
import { ApiError, ERROR_CATALOG, type ErrorCode } from './api-error';
import { ApiProblemResponse } from './api-problem-response.decorator';
import { problemTypeUri } from './problem-details';

const CODES = Object.keys(ERROR_CATALOG) as ErrorCode[];
const CODE_BY_URI = new Map(CODES.map((code) => [problemTypeUri(code), code]));

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** `code` spans for the backticked names in the catalog's prose. */
function prose(text: string): string {
  return escapeHtml(text).replace(/`([^`]+)`/g, '<code>$1</code>');
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body>${body}<p><a href="/problems">All problem types</a> · <a href="/docs">API reference</a></p></body></html>`;
}

/** The pages the `type` URIs of problem details point at: what each problem means, what to do. */
@ApiTags('operations')
@Public()
@Controller('problems')
export class ProblemsController {
  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @ApiOperation({ summary: 'Every problem type this API answers with, as a page' })
  @ApiProduces('text/html')
  @ApiOkResponse({ description: 'An HTML page linking to each problem type.' })
  index(): string {
    const items = CODES.map((code) => `<li><a href="${problemTypeUri(code)}"><code>${code}</code></a> (${ERROR_CATALOG[code].status}): ${escapeHtml(ERROR_CATALOG[code].title)}</li>`);
    return page('Problem types', `<h1>Problem types</h1><p>Errors are RFC 9457 problem details; each <code>type</code> is one of these pages.</p><ul>${items.join('')}</ul>`);
  }

  @Get(':type')
  @Header('Content-Type', 'text/html; charset=utf-8')
  @ApiOperation({ summary: 'What a problem type means and what to do about it (the page a problem’s `type` points at)' })
  @ApiParam({ name: 'type', example: 'version-conflict' })
  @ApiProduces('text/html')
  @ApiOkResponse({ description: 'An HTML page.' })
  @ApiProblemResponse(404, 'ROUTE_NOT_FOUND: no such problem type.')
  describe(@Param('type') type: string): string {
    const code = CODE_BY_URI.get(`/problems/${type}`);
    if (code === undefined) {
      throw new ApiError('ROUTE_NOT_FOUND', `no problem type ${type}`);
    }
    const { status, title, about } = ERROR_CATALOG[code];
    return page(title, `<h1>${escapeHtml(title)}</h1><p>HTTP status ${status}, <code>code</code>: <code>${code}</code></p><p>${prose(about)}</p>`);
  }
}
