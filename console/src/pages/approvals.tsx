import { useReducer, useState, type FormEvent } from 'react';
import { OutcomeNote, useSend } from '../components/send';
import { Await } from '../components/status';
import { money, number2, when } from '../format';
import { Link } from '../router';
import type { Approval } from '../types';
import { useApi } from '../use-api';

const ACTION_TYPES = ['retention_offer', 'proactive_outreach', 'priority_support', 'campaign', 'win_back'];
const CHANNELS = ['email', 'sms', 'push', 'phone', 'crm'];
/** An item expiring within this many hours is marked: a decision after expiry delivers nothing. */
const EXPIRING_HOURS = 24;

interface Filters {
  type: string;
  segment: string;
  minAmount: string;
  maxAmount: string;
  minAgeHours: string;
}
const NO_FILTERS: Filters = { type: '', segment: '', minAmount: '', maxAmount: '', minAgeHours: '' };

function queuePath(f: Filters): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(f)) if (value.trim() !== '') params.set(key, value.trim());
  const query = params.toString();
  return query === '' ? '/approvals' : `/approvals?${query}`;
}

const expiringSoon = (a: Approval) => new Date(a.expiresAt).getTime() - Date.now() < EXPIRING_HOURS * 3_600_000;

function FilterForm({ onApply }: { onApply: (f: Filters) => void }) {
  const [f, setF] = useState<Filters>(NO_FILTERS);
  const field = (key: keyof Filters) => ({
    value: f[key],
    onChange: (e: { target: { value: string } }) => setF({ ...f, [key]: e.target.value }),
  });
  const apply = (event: FormEvent) => {
    event.preventDefault();
    onApply(f);
  };
  return (
    <form className="filters" onSubmit={apply} aria-label="Filter the queue">
      <label>
        Type
        <select {...field('type')}>
          <option value="">any</option>
          {ACTION_TYPES.map((t) => (
            <option key={t}>{t}</option>
          ))}
        </select>
      </label>
      <label>
        Segment
        <input {...field('segment')} className="short" />
      </label>
      <label>
        Amount from
        <input {...field('minAmount')} inputMode="decimal" className="short" />
      </label>
      <label>
        Amount to
        <input {...field('maxAmount')} inputMode="decimal" className="short" />
      </label>
      <label>
        Waiting at least (hours)
        <input {...field('minAgeHours')} inputMode="decimal" className="short" />
      </label>
      <button type="submit">Filter</button>
    </form>
  );
}

/** Reject or override one action: both need a reason; an override changes the amount (up to the cap) or channel. */
function OneDecision({ item, send, busy }: { item: Approval; send: ReturnType<typeof useSend>['send']; busy: boolean }) {
  const [reason, setReason] = useState('');
  const [amount, setAmount] = useState('');
  const [channel, setChannel] = useState('');
  const id = item.actionId;
  const override = () => {
    const body: Record<string, string> = { reason };
    if (amount.trim() !== '') body.amount = amount.trim();
    if (channel !== '') body.channel = channel;
    void send(`/approvals/${id}/override`, body, () => `Action ${id} approved with changes.`);
  };
  return (
    <details>
      <summary>Reject or override</summary>
      <div className="decide">
        <label>
          Reason
          <input value={reason} onChange={(e) => setReason(e.target.value)} aria-label={`Reason for action ${id}`} />
        </label>
        <button
          type="button"
          disabled={busy || reason.trim() === ''}
          onClick={() => void send(`/approvals/${id}/reject`, { reason }, () => `Action ${id} rejected.`)}
        >
          Reject
        </button>
        <label>
          Amount
          <input
            value={amount}
            onChange={(e) => setAmount(e.target.value)}
            inputMode="decimal"
            className="short"
            aria-label={`Amount for action ${id}`}
          />
        </label>
        <label>
          Channel
          <select value={channel} onChange={(e) => setChannel(e.target.value)} aria-label={`Channel for action ${id}`}>
            <option value="">unchanged</option>
            {CHANNELS.map((c) => (
              <option key={c}>{c}</option>
            ))}
          </select>
        </label>
        <button type="button" disabled={busy || reason.trim() === '' || (amount.trim() === '' && channel === '')} onClick={override}>
          Override
        </button>
      </div>
    </details>
  );
}

function Queue({ items, mayDecide, onChanged }: { items: Approval[]; mayDecide: boolean; onChanged: () => void }) {
  const [selected, setSelected] = useState<Set<number>>(new Set());
  const [bulkReason, setBulkReason] = useState('');
  const { send, busy, outcome } = useSend(() => {
    setSelected(new Set());
    onChanged();
  });
  const toggle = (id: number) => {
    const next = new Set(selected);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setSelected(next);
  };
  const bulk = (decision: 'approve' | 'reject') =>
    void send<{ results: { actionId: number; error?: { message: string } }[] }>(
      '/approvals/bulk',
      { decision, actionIds: [...selected], ...(bulkReason.trim() === '' ? {} : { reason: bulkReason.trim() }) },
      ({ results }) => {
        const refused = results.filter((r) => r.error);
        const done = `${results.length - refused.length} of ${results.length} ${decision === 'approve' ? 'approved' : 'rejected'}.`;
        return refused.length === 0 ? done : `${done} Refused: ${refused.map((r) => `${r.actionId} (${r.error!.message})`).join('; ')}`;
      },
    );
  if (items.length === 0) return <p data-testid="queue-empty">Nothing is waiting for a decision.</p>;
  return (
    <>
      <OutcomeNote outcome={outcome} />
      {mayDecide && (
        <div className="toolbar" aria-label="Decide the selected actions">
          <span>{selected.size} selected</span>
          <label>
            Reason (needed to reject)
            <input value={bulkReason} onChange={(e) => setBulkReason(e.target.value)} />
          </label>
          <button type="button" disabled={busy || selected.size === 0} onClick={() => bulk('approve')}>
            Approve selected
          </button>
          <button type="button" disabled={busy || selected.size === 0 || bulkReason.trim() === ''} onClick={() => bulk('reject')}>
            Reject selected
          </button>
        </div>
      )}
      <table data-testid="approvals">
        <thead>
          <tr>
            {mayDecide && <th scope="col">Select</th>}
            <th scope="col">Action</th>
            <th scope="col">Customer</th>
            <th scope="col">Type</th>
            <th scope="col">Segment</th>
            <th scope="col" className="num">
              Amount
            </th>
            <th scope="col">Why waiting</th>
            <th scope="col" className="num">
              Waiting (hours)
            </th>
            <th scope="col">Expires</th>
            {mayDecide && <th scope="col">Decide</th>}
          </tr>
        </thead>
        <tbody>
          {items.map((a) => (
            <tr key={a.actionId} data-action-id={a.actionId}>
              {mayDecide && (
                <td>
                  <input
                    type="checkbox"
                    className="tick"
                    checked={selected.has(a.actionId)}
                    onChange={() => toggle(a.actionId)}
                    aria-label={`Select action ${a.actionId}`}
                  />
                </td>
              )}
              <td>
                <Link to={`/decisions/${a.actionId}`}>Decision {a.actionId}</Link>
              </td>
              <td>
                <Link to={`/customers/${encodeURIComponent(a.customerId)}`}>{a.customerId}</Link>
              </td>
              <td>{a.actionType}</td>
              <td>{a.segment ?? '–'}</td>
              <td className="num">{money(a.incentiveAmount)}</td>
              <td>
                {a.reason ?? '–'}
                {a.escalated && <span className="badge warn">escalated</span>}
              </td>
              <td className="num">{number2(a.ageHours)}</td>
              <td>
                {when(a.expiresAt)}
                {expiringSoon(a) && <span className="badge warn">expires soon</span>}
              </td>
              {mayDecide && (
                <td>
                  <button
                    type="button"
                    disabled={busy}
                    onClick={() => void send(`/approvals/${a.actionId}/approve`, {}, () => `Action ${a.actionId} approved.`)}
                    aria-label={`Approve action ${a.actionId}`}
                  >
                    Approve
                  </button>
                  <OneDecision item={a} send={send} busy={busy} />
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

export function ApprovalsPage({ mayDecide }: { mayDecide: boolean }) {
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const [version, reload] = useReducer((n: number) => n + 1, 0);
  const loaded = useApi<{ approvals: Approval[] }>(queuePath(filters), version);
  return (
    <>
      <h2>Approvals</h2>
      <p className="muted">Actions waiting for a person, oldest first. Money in the shop&apos;s currency.</p>
      <FilterForm onApply={setFilters} />
      <Await loaded={loaded}>{(data) => <Queue items={data.approvals} mayDecide={mayDecide} onChanged={reload} />}</Await>
    </>
  );
}
