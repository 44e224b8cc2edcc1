import pino from 'pino';
import { config } from './config';

/** Structured logs go to stderr so that command summaries on stdout stay readable and parseable. */
export const log = pino({ level: config().logLevel, base: undefined }, pino.destination(2));
