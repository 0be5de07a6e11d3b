/**
 * Django REST Framework's page-number pagination, shared by FLOW SMS and Mifumo: `page` and
 * `page_size` (at most 100) in; `{count, next, previous, results}` out, with `next` and
 * `previous` as absolute URLs of this same query, as DRF builds them.
 */
import type Koa from 'koa';
import { z } from 'zod';
import { ServiceError } from '../../services/errors.js';
import type { Page, PageRequest } from '../../services/index.js';

export const MAX_PAGE_SIZE = 100;

export const drfPageQuery = z.object({
  page: z.coerce.number().int().min(1).default(1),
  page_size: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(20),
});

export const drfPageOf = (q: z.output<typeof drfPageQuery>): PageRequest => ({ page: q.page, size: q.page_size });

/** A page past the last answers 404 `Invalid page.`, as DRF does (page 1 always exists). */
export function drfPage<T, U>(ctx: Koa.Context, p: Page<T>, view: (row: T) => U) {
  const pages = Math.max(1, Math.ceil(p.total / p.size));
  if (p.page > pages) throw new ServiceError('not_found', 'invalid_page');
  return {
    count: p.total,
    next: p.page < pages ? pageUrl(ctx, p.page + 1) : null,
    previous: p.page > 1 ? pageUrl(ctx, p.page - 1) : null,
    results: p.rows.map(view),
  };
}

/**
 * This request's URL on another page; DRF leaves `page` out for the first one. Absolute on the
 * Host the client used, as DRF builds it; a Host header that makes no URL gets a relative one.
 */
function pageUrl(ctx: Koa.Context, page: number): string {
  const url = new URL(ctx.originalUrl, 'http://relais.invalid');
  if (page === 1) url.searchParams.delete('page');
  else url.searchParams.set('page', String(page));
  const relative = `${url.pathname}${url.search}`;
  return URL.canParse(relative, `${ctx.protocol}://${ctx.host}`) ? new URL(relative, `${ctx.protocol}://${ctx.host}`).toString() : relative;
}
