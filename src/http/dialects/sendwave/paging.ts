/** Laravel's pagination: `page` and `per_page` in, the length-aware paginator out. */
import { z } from 'zod';
import type { Page, PageRequest } from '../../../services/index.js';

export const pageQuery = z.object({
  page: z.coerce.number().int().min(1).default(1),
  per_page: z.coerce.number().int().min(1).max(500).default(50),
});

export const pageOf = (q: z.output<typeof pageQuery>): PageRequest => ({ page: q.page, size: q.per_page });

export function paginated<T, U>(p: Page<T>, view: (row: T) => U) {
  const lastPage = Math.max(1, Math.ceil(p.total / p.size));
  const from = p.rows.length ? (p.page - 1) * p.size + 1 : null;
  return { current_page: p.page, data: p.rows.map(view), from, last_page: lastPage, per_page: p.size, to: from === null ? null : from + p.rows.length - 1, total: p.total };
}
