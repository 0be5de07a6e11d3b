/** Webhook events with the French labels the SendWave document gives, plus MO. */
export const WEBHOOK_EVENTS = {
  'message.sent': 'Message envoyé',
  'message.delivered': 'Message délivré',
  'message.failed': 'Message échoué',
  'message.unconfirmed': 'Message sans accusé de réception',
  'message.received': 'Message reçu',
  'campaign.started': 'Campagne démarrée',
  'campaign.completed': 'Campagne terminée',
  'campaign.failed': 'Campagne échouée',
  'contact.created': 'Contact créé',
  'contact.updated': 'Contact mis à jour',
  'contact.deleted': 'Contact supprimé',
  'sub_account.created': 'Sous-compte créé',
  'sub_account.suspended': 'Sous-compte suspendu',
  'blacklist.added': 'Numéro ajouté à la liste noire',
} as const;

export type WebhookEvent = keyof typeof WEBHOOK_EVENTS | 'webhook.test';
export const EVENT_NAMES = Object.keys(WEBHOOK_EVENTS) as (keyof typeof WEBHOOK_EVENTS)[];
