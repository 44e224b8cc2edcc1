import { ValidationError } from '../lib/errors';
import type { PolicyVersion } from './lifecycle';

/** One difference between two versions, at a path such as `parameters.actions.retention_offer.responseRate`. */
export interface VersionChange {
  path: string;
  kind: 'added' | 'removed' | 'changed';
  /** The value in the older version (absent when added). */
  before?: unknown;
  /** The value in the newer version (absent when removed). */
  after?: unknown;
}

export interface VersionDiff {
  policyKey: string;
  from: { versionId: number; version: number; status: string };
  to: { versionId: number; version: number; status: string };
  changes: VersionChange[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Rules are compared by name (their order is not their identity); anything else by position. */
function keyed(value: unknown[]): Record<string, unknown> | null {
  const names = value.map((v) => (isObject(v) && typeof v.name === 'string' ? v.name : null));
  if (names.some((n) => n === null) || new Set(names).size !== names.length) return null;
  return Object.fromEntries(value.map((v, i) => [names[i]!, v]));
}

function walk(path: string, before: unknown, after: unknown, out: VersionChange[]): void {
  if (Array.isArray(before) && Array.isArray(after)) {
    const a = keyed(before);
    const b = keyed(after);
    if (a && b) return walk(path, a, b, out);
    // Lists without names (frequency caps, action types): a changed list reads better whole than element by element.
    if (JSON.stringify(before) !== JSON.stringify(after)) out.push({ path, kind: 'changed', before, after });
    return;
  }
  if (isObject(before) && isObject(after)) {
    for (const key of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
      const child = `${path}.${key}`;
      if (!(key in after)) out.push({ path: child, kind: 'removed', before: before[key] });
      else if (!(key in before)) out.push({ path: child, kind: 'added', after: after[key] });
      else walk(child, before[key], after[key], out);
    }
    return;
  }
  if (JSON.stringify(before) !== JSON.stringify(after)) out.push({ path, kind: 'changed', before, after });
}

/** What changed from one version of a policy to another: rules (by name) and parameters, path by path. */
export function diffVersions(from: PolicyVersion, to: PolicyVersion): VersionDiff {
  if (from.policyKey !== to.policyKey) {
    throw new ValidationError(`Versions of different policies (${from.policyKey}, ${to.policyKey}) are not compared`, 'against');
  }
  const changes: VersionChange[] = [];
  walk('rules', from.rules, to.rules, changes);
  walk('parameters', from.parameters, to.parameters, changes);
  const side = (v: PolicyVersion) => ({ versionId: v.versionId, version: v.version, status: v.status });
  return { policyKey: to.policyKey, from: side(from), to: side(to), changes };
}
