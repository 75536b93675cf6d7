// JSON-lines logging (pino). Level from BELAY_LOG_LEVEL; tests pass their own.

import { type Logger, pino } from 'pino';

export type { Logger };

export function createLogger(options: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  const level = options.level ?? process.env.BELAY_LOG_LEVEL ?? 'info';
  return options.destination ? pino({ level, base: { service: 'belay' } }, options.destination as never) : pino({ level, base: { service: 'belay' } });
}

export const silentLogger: Logger = pino({ level: 'silent' });
