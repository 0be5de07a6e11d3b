/** SendWave campaigns (/api/campaigns…): the documented paths, over the campaign service. */
import { z } from 'zod';
import { FREQUENCIES, type CampaignDetail, type Counters } from '../../../services/campaigns/model.js';
import type { Services } from '../../../services/index.js';
import { CAMPAIGN_STATES } from '../../../store/tables.js';
import { idParam, iso, type Api } from '../../core/route.js';
import { isoDate, phoneLike, timeZone } from '../../core/validate.js';
import { pageOf, pageQuery } from './paging.js';
import { resource } from './resource.js';

const ids = z.array(z.number().int().positive()).max(10_000);
const fields = {
  name: z.string().trim().min(1).max(200),
  message_content: z.string().min(1).max(5000),
  scheduled_at: isoDate,
  sender_id: z.string().trim().min(1).max(15),
  template_id: z.number().int().positive(),
  group_ids: ids,
  contact_ids: ids,
  segment_ids: ids,
  recipients: z.array(phoneLike).max(100_000),
};
const createBody = z.object({ ...fields, message_content: fields.message_content.optional(), scheduled_at: fields.scheduled_at.optional(), sender_id: fields.sender_id.optional(), template_id: fields.template_id.optional(), group_ids: fields.group_ids.optional(), contact_ids: fields.contact_ids.optional(), segment_ids: fields.segment_ids.optional(), recipients: fields.recipients.optional() });
const patchBody = z.object(fields).partial();

const date = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'date');
const scheduleBody = z.object({
  frequency: z.enum(FREQUENCIES),
  day_of_week: z.number().int().min(0).max(6).optional(),
  day_of_month: z.number().int().min(1).max(31).optional(),
  time: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'time_of_day'),
  start_date: date.optional(),
  end_date: date.optional(),
  is_active: z.boolean().default(true),
  timezone: timeZone.optional(),
});

const variantsBody = z.object({
  variants: z.array(z.object({ variant_name: z.string().trim().min(1).max(100), message: z.string().min(1).max(5000), percentage: z.number().int().min(1).max(100) })).min(1).max(10),
});

/** The campaign's input in the service's words. */
const inputOf = (b: z.output<typeof patchBody>) => ({
  name: b.name, message: b.message_content, template_id: b.template_id, sender_id: b.sender_id, scheduled_at: b.scheduled_at,
  ...(b.group_ids || b.contact_ids || b.segment_ids || b.recipients ? { audience: { numbers: b.recipients, group_ids: b.group_ids, contact_ids: b.contact_ids, segment_ids: b.segment_ids } } : {}),
});

const statsView = (k: Omit<Counters, 'removed' | 'duplicates'> & Partial<Pick<Counters, 'removed' | 'duplicates'>>) => ({
  total_recipients: k.total, queued: k.queued, sent: k.sent, delivered: k.delivered, failed: k.failed, cancelled: k.cancelled,
  ...(k.removed !== undefined ? { removed: k.removed, duplicates: k.duplicates } : {}), delivery_rate: k.delivery_rate,
});

export const campaignView = (d: CampaignDetail) => {
  const c = d.campaign;
  return {
    id: c.id, name: c.name, message_content: c.message, status: c.status, sender_id: c.sender_id, template_id: c.template_id,
    scheduled_at: iso(c.scheduled_at), group_ids: d.audience.group_ids ?? [], contact_ids: d.audience.contact_ids ?? [], segment_ids: d.audience.segment_ids ?? [],
    recipients_count: d.audience.numbers?.length ?? 0, schedule: d.schedule, stats: statsView(d.counters), delivery_rate: d.counters.delivery_rate,
    variants: d.variants.map((v) => ({ id: v.variant.id, variant_name: v.variant.name, message: v.variant.message, percentage: v.variant.percentage, stats: statsView(v) })),
    runs: d.runs.map((r) => ({ id: r.id, phase: r.phase, total: r.total, removed: r.removed, duplicates: r.duplicates, reserved: r.reserved, started_at: iso(r.started_at), finished_at: iso(r.finished_at) })),
    last_error: c.last_error, created_at: iso(c.created_at), updated_at: iso(c.updated_at),
  };
};

export function mountCampaigns(api: Api, s: Services): void {
  const permission = 'create_campaigns';
  resource(api, {
    // Reading: create_campaigns or view_analytics, which the service checks.
    path: '/campaigns', permission, readPermission: null, view: campaignView,
    list: {
      summary: 'Campaigns with their counters, filtered (status, search) and paginated',
      query: pageQuery.extend({ status: z.enum(CAMPAIGN_STATES).optional(), search: z.string().optional() }),
      run: (actor, q) => s.campaigns.list(actor, { status: q.status, search: q.search }, pageOf(q)),
    },
    create: {
      summary: 'Create a campaign (draft, or scheduled with scheduled_at)', body: createBody, message: 'Campagne créée',
      run: (actor, b) => s.campaigns.create(actor, { ...inputOf(b), name: b.name }),
    },
    get: { summary: 'One campaign: counters and delivery rate, per variant too', run: (actor, id) => s.campaigns.get(actor, id) },
    update: { summary: 'Update a campaign (not while running or paused)', body: patchBody, message: 'Campagne mise à jour', run: (actor, id, b) => s.campaigns.update(actor, id, inputOf(b)) },
    remove: { summary: 'Delete a campaign (not while running or paused)', message: 'Campagne supprimée', run: (actor, id) => s.campaigns.remove(actor, id) },
  });
  api.route({
    method: 'post', path: '/campaigns/:id/send', summary: 'Start the campaign now (recipients and message override its audience and text)', auth: 'required', permission, rate: 'send',
    body: z.object({ recipients: fields.recipients.min(1).optional(), message: fields.message_content.optional() }),
    handler: async ({ params, body, actor }) => ({ message: 'Campagne lancée', data: campaignView(await s.campaigns.send(actor, idParam(params.id), body)) }),
  });
  for (const [action, word] of [['pause', 'Campagne mise en pause'], ['resume', 'Campagne reprise'], ['cancel', 'Campagne annulée']] as const) {
    api.route({
      method: 'post', path: `/campaigns/:id/${action}`, summary: `${action[0]!.toUpperCase()}${action.slice(1)} the campaign`, auth: 'required', permission,
      handler: async ({ params, actor }) => ({ message: word, data: campaignView(await s.campaigns[action](actor, idParam(params.id))) }),
    });
  }
  api.route({
    method: 'post', path: '/campaigns/:id/schedule', summary: 'Recurring schedule (once, daily, weekly, monthly) in the account time zone', auth: 'required', permission, body: scheduleBody,
    handler: async ({ params, body, actor }) => ({ message: 'Planification enregistrée', data: campaignView(await s.campaigns.schedule(actor, idParam(params.id), body)) }),
  });
  api.route({
    method: 'post', path: '/campaigns/:id/variants', summary: 'A/B variants; percentages add up to 100', auth: 'required', permission, body: variantsBody,
    handler: async ({ params, body, actor }) => ({
      message: 'Variantes enregistrées',
      data: campaignView(await s.campaigns.setVariants(actor, idParam(params.id), body.variants.map((v) => ({ name: v.variant_name, message: v.message, percentage: v.percentage })))),
    }),
  });
}
