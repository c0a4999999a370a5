import { ERROR_CATALOG, type ErrorCode, type FieldIssue } from './api-error';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** RFC 9457 body, with the service's `code` and (for 400) the fields at fault. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  instance?: string;
  requestId?: string;
  errors?: readonly FieldIssue[];
  [extension: string]: unknown;
}

export function problemTypeUri(code: ErrorCode): string {
  return `/problems/${code.toLowerCase().replace(/_/g, '-')}`;
}

export function problemOf(code: ErrorCode, detail: string, extra: Partial<ProblemDetails> = {}): ProblemDetails {
  const { status, title } = ERROR_CATALOG[code];
  return { type: problemTypeUri(code), title, status, detail, code, ...extra };
}

/** Members RFC 9457 and this service define; an extension may not take their names. */
type ProblemMember = 'type' | 'title' | 'status' | 'detail' | 'code' | 'instance' | 'requestId';

/**
 * A problem as the exact bytes of an answer decided in a transaction (and stored for replay when
 * definitive): the same shape, members in the same order, as the problem-details filter gives
 * everything else.
 */
export function renderProblem(
  code: ErrorCode,
  detail: string,
  context: { readonly instance: string; readonly requestId: string },
  extensions: Readonly<Record<string, unknown>> & { readonly [member in ProblemMember]?: never } = {},
): { status: number; body: string; contentType: string } {
  const body = { ...problemOf(code, detail), ...extensions, requestId: context.requestId, instance: context.instance };
  // The answer's status is the code's, whatever an extension is called.
  return { status: ERROR_CATALOG[code].status, body: JSON.stringify(body), contentType: PROBLEM_CONTENT_TYPE };
}
