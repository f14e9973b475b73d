import { pino, type Logger } from 'pino';

/**
 * The process logger: JSON lines on stdout (for collectors), pretty and coloured when stdout is a
 * terminal. `SWITCHYARD_LOG_PRETTY=0|1` forces either.
 */
export function createLogger(level: string, bindings: Record<string, unknown> = {}): Logger {
  const forced = process.env.SWITCHYARD_LOG_PRETTY;
  const pretty = forced === undefined ? process.stdout.isTTY === true : forced === '1';
  const base = { name: 'switchyard', ...bindings };
  if (pretty) {
    return pino({ level, base, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,name' } } });
  }
  return pino({ level, base, timestamp: pino.stdTimeFunctions.isoTime });
}
