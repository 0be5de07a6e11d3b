/**
 * Where webhooks may point. This box sits inside an operator's network: a webhook is a way for
 * any integrator to make the gateway send HTTP requests, so by default it may not reach
 * loopback, link-local (cloud metadata) or private addresses (SSRF). The admin can allow them.
 * Checked when a URL is saved AND at connection time (a hostname can be re-pointed later).
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';

const blocked = new BlockList();
for (const [net, prefix] of [['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4]] as const) {
  blocked.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8]] as const) blocked.addSubnet(net, prefix, 'ipv6');

export function isPrivateAddress(address: string): boolean {
  const v4mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (v4mapped) return blocked.check(v4mapped[1]!, 'ipv4');
  const family = isIP(address);
  return family === 0 ? false : blocked.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

export type UrlRefusal = 'url_invalid' | 'url_scheme' | 'url_credentials' | 'url_private';
export type UrlCheck = { ok: true; url: URL } | { ok: false; code: UrlRefusal; host?: string };

/**
 * Syntax and scheme; an IP literal or `localhost` must not be internal; a host name must not
 * resolve, now, to an internal address. A name that does not resolve right now is accepted: DNS
 * on an on-prem box may be split or late, and delivery checks every address it connects to.
 */
export async function checkWebhookUrl(raw: string, allowPrivate: boolean): Promise<UrlCheck> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, code: 'url_invalid' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, code: 'url_scheme' };
  if (url.username || url.password) return { ok: false, code: 'url_credentials' };
  if (allowPrivate) return { ok: true, url };
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return { ok: false, code: 'url_private' };
  const addresses = isIP(host) ? [host] : await resolveAll(host);
  if (addresses.some(isPrivateAddress)) return { ok: false, code: 'url_private' };
  return { ok: true, url };
}

const resolveAll = (host: string) =>
  new Promise<string[]>((resolve) => dnsLookup(host, { all: true }, (err, list: LookupAddress[]) => resolve(err ? [] : list.map((a) => a.address))));

/** A dns.lookup for undici's connector that refuses private answers at connection time. */
export function guardedLookup(allowPrivate: boolean) {
  return (hostname: string, options: object, callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void): void => {
    dnsLookup(hostname, { ...options, all: true }, (err, list: LookupAddress[]) => {
      if (err) return callback(err, []);
      if (!allowPrivate && list.some((a) => isPrivateAddress(a.address))) {
        return callback(Object.assign(new Error(`refused: ${hostname} resolves to a private address`), { code: 'EPRIVATE' }), []);
      }
      const all = (options as { all?: boolean }).all;
      if (all) return callback(null, list);
      const first = list[0]!;
      return callback(null, first.address, first.family);
    });
  };
}
