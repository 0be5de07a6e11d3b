/** pino JSON logs. Secrets are redacted by key wherever they appear, whatever the caller logs. */
import { pino, type Logger } from 'pino';

export const REDACT = [
  'password', '*.password', '*.*.password', 'token', '*.token', 'secret', '*.secret', 'api_key', '*.api_key',
  'authorization', '*.authorization', 'req.headers.authorization', 'req.headers.cookie',
];

/** Every logger of a root, children included: pino's children keep the level they were made with. */
const FAMILY = Symbol('relais.loggers');
type Family = Set<WeakRef<Logger>>;

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const root = pino({ level, redact: { paths: REDACT, censor: '[redacted]' }, base: { service: 'relais' }, timestamp: pino.stdTimeFunctions.isoTime }, destination ?? process.stdout);
  const family: Family = new Set();
  (root as unknown as Record<symbol, Family>)[FAMILY] = family;
  adopt(root, family);
  return root;
}

function adopt(logger: Logger, family: Family): void {
  family.add(new WeakRef(logger));
  const child = logger.child.bind(logger);
  logger.child = ((bindings, options) => {
    const c = child(bindings, options);
    adopt(c as unknown as Logger, family);
    return c;
  }) as Logger['child'];
}

/** A new level for the root and every logger made from it (a reload's `log.level`). */
export function setLogLevel(root: Logger, level: string): void {
  const family = (root as unknown as Record<symbol, Family | undefined>)[FAMILY];
  if (!family) {
    root.level = level;
    return;
  }
  for (const ref of family) {
    const l = ref.deref();
    if (l) l.level = level;
    else family.delete(ref);
  }
}

export type { Logger };
