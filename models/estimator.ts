/**
 * The contract every fitted thing in models/ keeps, in the scikit-learn sense: parameters in the constructor,
 * `fit` learns (replacing any earlier fit) and returns the estimator itself, predictions need a fit or `fromJSON`
 * (before that they throw NotFittedError), and `toJSON` writes everything learned in one envelope,
 * `{ format, version, ...fields }`, that the class's static `fromJSON` reads back.
 *
 * The envelope is what the model registry stores, possibly for years and across releases: `format` says which
 * estimator wrote it and `version` which layout of its fields, so that a reader refuses what it cannot read
 * with a ValidationError naming the field at fault rather than mispredicting.
 */
import { z } from 'zod';
import { ValidationError } from '../lib/errors';

export interface Envelope<Format extends string = string, Version extends number = number> {
  format: Format;
  version: Version;
}

export interface Estimator<FitArgs extends unknown[], Json extends Envelope> {
  /** Learns from the data, replacing whatever was learned before, and returns this same estimator. */
  fit(...args: FitArgs): this;
  /** Everything learned, in its envelope; NotFittedError before fit() or fromJSON(). */
  toJSON(): Json;
}

/** The static side of an estimator: reads back what toJSON() wrote, as an object or as JSON text. */
export interface EstimatorClass<E> {
  fromJSON(json: unknown): E;
}

/** One estimator's envelope: its format name, the version of its layout, and the schema of its other fields. */
export interface EnvelopeFormat<Format extends string, Version extends number, Shape extends z.ZodRawShape> {
  readonly format: Format;
  readonly version: Version;
  /** `fields` with this format's name and version in front. */
  wrap<Fields extends object>(fields: Fields): Envelope<Format, Version> & Fields;
  /** Checks `json` (an object or JSON text) is this format at this version and its fields are well formed. */
  parse(json: unknown): Envelope<Format, Version> & z.infer<z.ZodObject<Shape>>;
}

export function envelopeFormat<Format extends string, Version extends number, Shape extends z.ZodRawShape>(
  format: Format,
  version: Version,
  shape: Shape,
): EnvelopeFormat<Format, Version, Shape> {
  const schema = z.object({ format: z.literal(format), version: z.literal(version), ...shape }).strict();
  return {
    format,
    version,
    wrap: (fields) => ({ format, version, ...fields }),
    parse(json) {
      const candidate = typeof json === 'string' ? parseJsonText(json, format) : json;
      if (typeof candidate !== 'object' || candidate === null || Array.isArray(candidate)) {
        throw new ValidationError(`A serialised ${format} must be an object with format and version, not ${describe(candidate)}`, 'format');
      }
      const found = candidate as Partial<Envelope>;
      if (found.format !== format) {
        throw new ValidationError(`Expected format '${format}', got ${describe(found.format)}`, 'format');
      }
      if (found.version !== version) {
        throw new ValidationError(
          `${format} version ${describe(found.version)} cannot be read: this build reads version ${version}`,
          'version',
        );
      }
      return parseOrThrow(schema, candidate, format) as Envelope<Format, Version> & z.infer<z.ZodObject<Shape>>;
    },
  };
}

/** Parses with zod; a failure is a ValidationError listing every problem and naming the first bad field. */
export function parseOrThrow<T>(schema: z.ZodType<T, z.ZodTypeDef, unknown>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const { issues } = parsed.error;
    const problems = issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');
    throw new ValidationError(`Invalid ${what}: ${problems}`, issues[0].path.join('.') || undefined);
  }
  return parsed.data;
}

function parseJsonText(text: string, format: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ValidationError(`${format} state is not valid JSON: ${(error as Error).message}`, 'format');
  }
}

function describe(value: unknown): string {
  return value === undefined ? 'none' : JSON.stringify(value);
}
