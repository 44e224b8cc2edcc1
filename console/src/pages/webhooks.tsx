import { useReducer, useState } from 'react';
import { OutcomeNote, useSend } from '../components/send';
import { Await } from '../components/status';
import { count, when } from '../format';
import type { Delivery } from '../types';
import { useApi } from '../use-api';

const STATUSES = ['', 'pending', 'delivered', 'dead_letter', 'cancelled'];

function DeliveryTable({ deliveries, testId, replay }: { deliveries: Delivery[]; testId: string; replay?: (d: Delivery) => void }) {
  if (deliveries.length === 0) return <p>None.</p>;
  return (
    <table data-testid={testId}>
      <thead>
        <tr>
          <th scope="col">Delivery</th>
          <th scope="col">Event</th>
          <th scope="col">Subscription</th>
          <th scope="col">Status</th>
          <th scope="col" className="num">
            Attempts
          </th>
          <th scope="col">Last answer</th>
          <th scope="col">Delivered or given up</th>
          {replay && <th scope="col">Replay</th>}
        </tr>
      </thead>
      <tbody>
        {deliveries.map((d) => (
          <tr key={d.deliveryId}>
            <td>{d.deliveryId}</td>
            <td>{d.eventType}</td>
            <td>{d.subscriptionId}</td>
            <td>
              <span className="badge">{d.status}</span>
            </td>
            <td className="num">
              {count(d.attempts)} (series {count(d.series)})
            </td>
            <td>{d.lastStatusCode ?? d.lastError ?? '–'}</td>
            <td>{when(d.deliveredAt ?? d.deadLetteredAt)}</td>
            {replay && (
              <td>
                <button type="button" onClick={() => replay(d)} aria-label={`Replay delivery ${d.deliveryId}`}>
                  Replay
                </button>
              </td>
            )}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function DeadLetters({ mayReplay, version, onChanged }: { mayReplay: boolean; version: number; onChanged: () => void }) {
  const loaded = useApi<{ deliveries: Delivery[] }>('/webhooks/dead-letters', version);
  const [reason, setReason] = useState('');
  const { send, outcome } = useSend(onChanged);
  const replay = (d: Delivery) =>
    reason.trim() === ''
      ? undefined
      : void send(`/webhooks/deliveries/${d.deliveryId}/replay`, { reason }, () => `Delivery ${d.deliveryId} is being tried again.`);
  return (
    <section aria-labelledby="dead-heading">
      <h3 id="dead-heading">Dead letters</h3>
      {mayReplay && (
        <label>
          Reason for a replay
          <input value={reason} onChange={(e) => setReason(e.target.value)} />
        </label>
      )}
      <OutcomeNote outcome={outcome} />
      <Await loaded={loaded}>
        {({ deliveries }) => (
          <DeliveryTable deliveries={deliveries} testId="dead-letters" replay={mayReplay && reason.trim() !== '' ? replay : undefined} />
        )}
      </Await>
    </section>
  );
}

export function WebhooksPage({ mayReplay }: { mayReplay: boolean }) {
  const [status, setStatus] = useState('');
  const [version, reload] = useReducer((n: number) => n + 1, 0);
  const loaded = useApi<{ deliveries: Delivery[] }>(
    status === '' ? '/webhooks/deliveries' : `/webhooks/deliveries?status=${status}`,
    version,
  );
  return (
    <>
      <h2>Webhooks</h2>
      <section aria-labelledby="deliveries-heading">
        <h3 id="deliveries-heading">Deliveries</h3>
        <div className="filters">
          <label>
            Status
            <select value={status} onChange={(e) => setStatus(e.target.value)}>
              {STATUSES.map((s) => (
                <option key={s} value={s}>
                  {s === '' ? 'any' : s}
                </option>
              ))}
            </select>
          </label>
          <button type="button" onClick={reload}>
            Refresh
          </button>
        </div>
        <Await loaded={loaded}>{({ deliveries }) => <DeliveryTable deliveries={deliveries} testId="webhook-deliveries" />}</Await>
      </section>
      <DeadLetters mayReplay={mayReplay} version={version} onChanged={reload} />
    </>
  );
}
