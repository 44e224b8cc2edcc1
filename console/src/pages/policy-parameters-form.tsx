import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { apiPost, ApiError, type FieldIssue } from '../api';
import { OutcomeNote, type Outcome } from '../components/send';
import type { PolicyVersion } from '../types';

type Leaf = number | string | boolean | null;

/** One editable number, amount, name or switch of the parameters, at its path (`actions.retention_offer.responseRate`). */
interface Field {
  path: string;
  group: string;
  label: string;
  original: Leaf;
}

/** Where the cost curve's threshold goes: the retention offer's rule reads it. */
export const CHURN_THRESHOLD_PATH = 'actions.retention_offer.thresholds.minChurnProbability';

const isLeaf = (v: unknown): v is Leaf => v === null || ['number', 'string', 'boolean'].includes(typeof v);

// Script hints are prose and action-type lists are choices, not numbers to tune: they are kept as they are.
const KEPT = new Set(['scriptHints', 'actionTypes']);

function groupOf(path: string[]): { group: string; rest: string[] } {
  const [head, second, ...rest] = path;
  if (head === 'actions') return { group: `Action: ${second}`, rest };
  if (head === 'segments') return { group: `Segment: ${second}`, rest };
  if (head === 'frequencyCaps') return { group: 'Frequency caps', rest: [`cap ${Number(second) + 1}`, ...rest] };
  if (head === 'budget') return { group: 'Budget', rest: [second!, ...rest] };
  if (head === 'impactTiers') return { group: 'Approval thresholds', rest: [second!, ...rest] };
  return { group: 'General', rest: path };
}

function fieldsOf(value: unknown, path: string[] = []): Field[] {
  if (isLeaf(value)) {
    const { group, rest } = groupOf(path);
    return [{ path: path.join('.'), group, label: rest.join(' · '), original: value }];
  }
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, child]) => (KEPT.has(key) ? [] : fieldsOf(child, [...path, key])));
}

const text = (v: Leaf) => (v === null ? '' : String(v));

/** The edited text back into the value the server reads: a number where the parameter is one (the server judges it). */
function parsed(field: Field, value: string): unknown {
  if (typeof field.original === 'boolean') return value === 'true';
  if (typeof field.original === 'number') {
    const n = Number(value);
    return value.trim() !== '' && Number.isFinite(n) ? n : value;
  }
  if (field.original === null) return value.trim() === '' ? null : value.trim();
  return value;
}

function setAt(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) node = node[key] as Record<string, unknown>;
  node[keys[keys.length - 1]!] = value;
}

const inputId = (policyKey: string, path: string) => `p-${policyKey}-${path.replace(/[^A-Za-z0-9_-]/g, '_')}`;

/**
 * A new draft with the latest version's rules and edited parameters (owners tune numbers, not rules), as a form: per
 * action, per segment, budget, caps and approval thresholds. The server validates; every field it names as at fault
 * is marked beside its input, and listed above the form with a link to it.
 */
export function ParametersForm({
  policyKey,
  parameters,
  carried,
  onChanged,
}: {
  policyKey: string;
  parameters: PolicyVersion['parameters'];
  /** A threshold carried from the cost curve into the retention offer's minChurnProbability. */
  carried: number | null;
  onChanged: () => void;
}) {
  const fields = useMemo(() => fieldsOf(parameters), [parameters]);
  const [values, setValues] = useState<Record<string, string>>(() => Object.fromEntries(fields.map((f) => [f.path, text(f.original)])));
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome>(null);
  const [issues, setIssues] = useState<FieldIssue[]>([]);
  const [open, setOpen] = useState(false);

  useEffect(() => {
    if (carried === null) return;
    setValues((v) => ({ ...v, [CHURN_THRESHOLD_PATH]: String(carried) }));
    setOpen(true);
  }, [carried]);

  const issueFor = (path: string) => issues.find((i) => i.field === `parameters.${path}`);
  const groups = [...new Set(fields.map((f) => f.group))];

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const edited = structuredClone(parameters) as Record<string, unknown>;
    for (const field of fields) setAt(edited, field.path, parsed(field, values[field.path] ?? ''));
    setBusy(true);
    setOutcome(null);
    setIssues([]);
    try {
      const answer = await apiPost<{ version: number }>(`/policies/${encodeURIComponent(policyKey)}/parameters`, {
        parameters: edited,
        ...(note ? { note } : {}),
      });
      setOutcome({ ok: true, message: `Draft version ${answer.version} saved.` });
      onChanged();
    } catch (error) {
      setOutcome({ ok: false, message: error instanceof Error ? error.message : String(error) });
      if (error instanceof ApiError) setIssues(error.issues);
    } finally {
      setBusy(false);
    }
  };

  return (
    <details open={open} onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>New draft with changed parameters</summary>
      <form onSubmit={(e) => void submit(e)} className="stack" noValidate aria-label={`Parameters of a new ${policyKey} draft`}>
        {carried !== null && (
          <p role="status" data-testid="carried">
            Churn threshold {carried} carried from the cost curve into the retention offer.
          </p>
        )}
        {issues.length > 0 && (
          <div role="alert" className="error" data-testid="field-errors">
            <p>The server refused {issues.length === 1 ? 'one field' : `${issues.length} fields`}:</p>
            <ul>
              {issues.map((i) => {
                const path = i.field.replace(/^parameters\./, '');
                return (
                  <li key={i.field}>
                    {fields.some((f) => f.path === path) ? <a href={`#${inputId(policyKey, path)}`}>{path}</a> : path}: {i.message}
                  </li>
                );
              })}
            </ul>
          </div>
        )}
        {groups.map((group) => (
          <fieldset key={group}>
            <legend>{group}</legend>
            <div className="fields">
              {fields
                .filter((f) => f.group === group)
                .map((f) => {
                  const id = inputId(policyKey, f.path);
                  const issue = issueFor(f.path);
                  const value = values[f.path] ?? '';
                  const set = (v: string) => setValues((all) => ({ ...all, [f.path]: v }));
                  return (
                    <label key={f.path} htmlFor={id}>
                      {f.label}
                      {typeof f.original === 'boolean' ? (
                        <input
                          id={id}
                          type="checkbox"
                          className="tick"
                          checked={value === 'true'}
                          onChange={(e) => set(String(e.target.checked))}
                        />
                      ) : (
                        <input
                          id={id}
                          name={f.path}
                          inputMode={typeof f.original === 'number' ? 'decimal' : undefined}
                          value={value}
                          placeholder={f.original === null ? 'none' : undefined}
                          aria-invalid={issue ? true : undefined}
                          aria-describedby={issue ? `${id}-error` : undefined}
                          onChange={(e) => set(e.target.value)}
                        />
                      )}
                      {issue && (
                        <span id={`${id}-error`} className="field-error">
                          {issue.message}
                        </span>
                      )}
                    </label>
                  );
                })}
            </div>
          </fieldset>
        ))}
        <label>
          Note
          <input value={note} onChange={(e) => setNote(e.target.value)} />
        </label>
        <button type="submit" disabled={busy}>
          Save draft
        </button>
        <OutcomeNote outcome={outcome} />
      </form>
    </details>
  );
}
