/**
 * The benchmark's webhook receiver: an HTTP server on 127.0.0.1 (in this process) that answers
 * every POST 204 as soon as its body is read, and counts the `message.delivered` callbacks it got,
 * one per message (a retried delivery of the same message counts as a duplicate).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CallbackFigures {
  /** Distinct messages whose message.delivered arrived. */
  delivered: number;
  /** message.delivered for a message already counted (retries after a lost or late answer). */
  duplicates: number;
  /** Other events, and bodies that were not JSON with an event. */
  otherEvents: number;
  /** Arrival of the first and the last distinct message.delivered (epoch ms, Date.now()); NaN when none. */
  firstAt: number;
  lastAt: number;
}

export interface Receiver {
  /** Where the account webhook points. */
  url: string;
  /** Distinct messages whose message.delivered arrived so far. */
  delivered(): number;
  /** Closes the server (open connections too) and gives the figures; again: the same figures. */
  stop(): Promise<CallbackFigures>;
}

export async function startReceiver(): Promise<Receiver> {
  const seen = new Set<number>();
  const figures: CallbackFigures = { delivered: 0, duplicates: 0, otherEvents: 0, firstAt: NaN, lastAt: NaN };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const now = Date.now();
      res.writeHead(204).end();
      count(Buffer.concat(chunks).toString('utf8'), now);
    });
  });
  const count = (body: string, now: number) => {
    let event: { event?: string; data?: { message_id?: number } } | null = null;
    try {
      event = JSON.parse(body);
    } catch {
      // counted below
    }
    const id = event?.data?.message_id;
    if (event?.event !== 'message.delivered' || typeof id !== 'number') figures.otherEvents += 1;
    else if (seen.has(id)) figures.duplicates += 1;
    else {
      seen.add(id);
      figures.delivered += 1;
      if (figures.delivered === 1) figures.firstAt = now;
      figures.lastAt = now;
    }
  };
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  let stopped: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    delivered: () => figures.delivered,
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return stopped.then(() => ({ ...figures }));
    },
  };
}
