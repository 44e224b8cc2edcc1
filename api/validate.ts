import express from 'express';
import type { z } from 'zod';
import { ValidationError } from '../lib/errors';

/**
 * JSON body parser for the routes that take a body, placed after their allow() guard: a caller without a valid key
 * gets 401 whatever it sends, and no unauthenticated body is read. Bodies are small documents (a status and a
 * reason); anything bigger is refused before parsing.
 */
export const jsonBody = express.json({ limit: '16kb' });

// Ids from sources are kept as sent, merged ids look like source:external_id, and some sources use emails.
const CUSTOMER_ID = /^[A-Za-z0-9._:@+-]{1,128}$/;

export function customerIdParam(value: unknown): string {
  if (typeof value !== 'string' || !CUSTOMER_ID.test(value)) {
    throw new ValidationError('Path parameter "id" must be 1 to 128 characters: letters, digits and . _ : @ + -', 'id');
  }
  return value;
}

export function positiveIntParam(value: unknown, name: string): number {
  if (typeof value !== 'string' || !/^[1-9]\d{0,15}$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new ValidationError(`Path parameter "${name}" must be a positive whole number`, name);
  }
  return Number(value);
}

/** Parses with zod; the first problem becomes a ValidationError naming its field (or `where` for the whole input). */
export function parseWith<S extends z.ZodTypeAny>(schema: S, input: unknown, where: 'body' | 'query'): z.infer<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  if (issue.path.length === 0) throw new ValidationError(`Invalid request ${where}: ${issue.message}`, where);
  const field = issue.path.join('.');
  throw new ValidationError(`Invalid ${where === 'body' ? 'body field' : 'query parameter'} "${field}": ${issue.message}`, field);
}
