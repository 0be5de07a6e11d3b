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

/** The IPv4 address an IPv6 address carries, for the forms that route to it (mapped, compatible, NAT64, 6to4). */
function embeddedIpv4(address: string): string | null {
  const h = ipv6Hextets(address);
  if (!h) return null;
  const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  const zeros = (from: number, to: number) => h.slice(from, to).every((x) => x === 0);
  if (zeros(0, 5) && (h[5] === 0xffff || h[5] === 0)) return v4(h[6]!, h[7]!); // ::ffff:a.b.c.d, ::a.b.c.d
  if (h[0] === 0x64 && h[1] === 0xff9b && (zeros(2, 6) || h[2] === 1)) return v4(h[6]!, h[7]!); // NAT64 64:ff9b::/96, 64:ff9b:1::/48
  if (h[0] === 0x2002) return v4(h[1]!, h[2]!); // 6to4
  return null;
}

/** The eight 16-bit groups of an IPv6 literal (`::` expanded, a dotted IPv4 tail read), or null. */
function ipv6Hextets(address: string): number[] | null {
  if (isIP(address) !== 6) return null;
  let text = address.toLowerCase().replace(/%.*$/, '');
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const parse = (part: string | undefined) => (part ? part.split(':').map((x) => parseInt(x, 16)) : []);
  const left = parse(head);
  const right = parse(tail);
  const fill = tail === undefined ? [] : Array<number>(8 - left.length - right.length).fill(0);
  const all = [...left, ...fill, ...right];
  return all.length === 8 ? all : null;
}

export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return blocked.check(address, 'ipv4');
  if (family !== 6) return false;
  const v4 = embeddedIpv4(address);
  return (v4 !== null && blocked.check(v4, 'ipv4')) || blocked.check(address, 'ipv6');
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
