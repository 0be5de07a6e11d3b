/**
 * The routes SendWave gives a resource, declared once: list, create (201), get, update (PUT,
 * what it names), delete — each one service call rendered through the resource's view, with the
 * document's French confirmations.
 */
import type { z } from 'zod';
import type { Page } from '../../../services/index.js';
import type { Actor, Permission } from '../../../services/policy.js';
import { idParam, type Api } from '../../core/route.js';
import { paginated } from './paging.js';

export interface ResourceSpec<Row, C extends z.ZodType, U extends z.ZodType, Q extends z.ZodType> {
  /** Collection path, e.g. /templates; items are at /templates/:id. */
  path: string;
  permission: Permission;
  /** What reading (list, get) needs, when not `permission`; null: the service decides (one of several). */
  readPermission?: Permission | null;
  view: (row: Row) => unknown;
  list?: { summary: string; query?: Q; run: (actor: Actor, query: z.output<Q>) => Promise<Row[] | Page<Row>> };
  create?: { summary: string; body: C; message: string; run: (actor: Actor, body: z.output<C>) => Promise<Row> };
  get?: { summary: string; run: (actor: Actor, id: number) => Promise<Row> };
  update?: { summary: string; body: U; message: string; run: (actor: Actor, id: number, body: z.output<U>) => Promise<Row> };
  remove?: { summary: string; message: string; run: (actor: Actor, id: number) => Promise<unknown> };
}

export function resource<Row, C extends z.ZodType = z.ZodUndefined, U extends z.ZodType = z.ZodUndefined, Q extends z.ZodType = z.ZodUndefined>(
  api: Api, r: ResourceSpec<Row, C, U, Q>,
): void {
  const { path, permission, view } = r;
  const read = r.readPermission === undefined ? { permission } : r.readPermission === null ? {} : { permission: r.readPermission };
  const item = `${path}/:id`;
  const { list, create, get, update, remove } = r;
  if (list) {
    api.route({
      method: 'get', path, summary: list.summary, auth: 'required', ...read, ...(list.query ? { query: list.query } : {}),
      handler: async ({ actor, query }) => {
        const rows = await list.run(actor, query as z.output<Q>);
        return Array.isArray(rows) ? { data: rows.map(view) } : paginated(rows, view);
      },
    });
  }
  if (create) {
    api.route({
      method: 'post', path, summary: create.summary, auth: 'required', permission, body: create.body, status: 201,
      handler: async ({ actor, body }) => ({ message: create.message, data: view(await create.run(actor, body)) }),
    });
  }
  if (get) {
    api.route({
      method: 'get', path: item, summary: get.summary, auth: 'required', ...read,
      handler: async ({ actor, params }) => ({ data: view(await get.run(actor, idParam(params.id))) }),
    });
  }
  if (update) {
    api.route({
      method: 'put', path: item, summary: update.summary, auth: 'required', permission, body: update.body,
      handler: async ({ actor, params, body }) => ({ message: update.message, data: view(await update.run(actor, idParam(params.id), body)) }),
    });
  }
  if (remove) {
    api.route({
      method: 'delete', path: item, summary: remove.summary, auth: 'required', permission,
      handler: async ({ actor, params }) => {
        await remove.run(actor, idParam(params.id));
        return { message: remove.message };
      },
    });
  }
}
