import { useReducer, useState, type FormEvent } from 'react';
import { Figure } from '../components/chart';
import { OutcomeNote, useSend } from '../components/send';
import { Await } from '../components/status';
import { count, day, figure, money, when } from '../format';
import type { Policy, PolicyVersion, PolicyVersionRow, Simulation, Suppression } from '../types';
import { useApi } from '../use-api';
import { ParametersForm } from './policy-parameters-form';
import { ThresholdTuning } from './policy-threshold-tuning';
import { VersionDiffView } from './policy-version-diff';

/** What the signed-in role may change here, from GET /me's `may`. */
export interface PolicyRights {
  draft: boolean;
  approve: boolean;
  activate: boolean;
  simulate: boolean;
  /** Reads the cost of each churn threshold (GET /policies/versions/:versionId/threshold-costs). */
  tune: boolean;
  suppress: boolean;
  killSwitch: boolean;
}

const show = (v: unknown) => (typeof v === 'number' ? figure(v) : typeof v === 'string' ? v : JSON.stringify(v));

/** Each action's thresholds and money, then what each segment overrides. */
function Parameters({ version }: { version: PolicyVersion }) {
  const actions = Object.entries(version.parameters.actions ?? {});
  const segments = Object.entries(version.parameters.segments ?? {});
  return (
    <>
      <h4>Parameters per action</h4>
      <table data-testid="parameters">
        <thead>
          <tr>
            <th scope="col">Action</th>
            <th scope="col">Thresholds</th>
            <th scope="col">Other settings</th>
          </tr>
        </thead>
        <tbody>
          {actions.map(([type, p]) => (
            <tr key={type}>
              <th scope="row">{type}</th>
              <td>
                {Object.entries(p.thresholds ?? {})
                  .map(([k, v]) => `${k} ${show(v)}`)
                  .join(', ')}
              </td>
              <td>
                {Object.entries(p)
                  .filter(([k]) => k !== 'thresholds' && k !== 'scriptHints')
                  .map(([k, v]) => `${k} ${show(v)}`)
                  .join(', ')}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h4>Per segment</h4>
      <table data-testid="segment-parameters">
        <thead>
          <tr>
            <th scope="col">Segment</th>
            <th scope="col">Overrides</th>
          </tr>
        </thead>
        <tbody>
          {segments.map(([segment, byAction]) => (
            <tr key={segment}>
              <th scope="row">{segment}</th>
              <td>
                {Object.entries(byAction)
                  .map(
                    ([type, p]) =>
                      `${type}: ${Object.entries(p)
                        .map(([k, v]) => `${k} ${show(v)}`)
                        .join(', ')}`,
                  )
                  .join('; ')}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

function SimulationView({ s }: { s: Simulation }) {
  const types = Object.entries(s.summary.actionsByType);
  const series = { categories: types.map(([t]) => t), values: types.map(([, n]) => n), format: count, horizontal: true };
  const diff = s.comparedWith;
  return (
    <div data-testid="simulation">
      <p>
        On the latest scores version {s.versionId} would reach {count(s.summary.customersReached)} of {count(s.summary.customersEvaluated)}{' '}
        customers, for {money(s.summary.totalIncentive)} of incentives.
      </p>
      {diff ? (
        <p data-testid="difference">
          Against the active version {diff.version}: {count(diff.gaining.count)} customers gain an action, {count(diff.losing.count)} lose
          one, {count(diff.changing.count)} change action or amount.
        </p>
      ) : (
        <p data-testid="difference">No other active version to compare with.</p>
      )}
      <Figure
        title="Simulated actions by type"
        series={series}
        table={
          <table>
            <thead>
              <tr>
                <th scope="col">Type</th>
                <th scope="col" className="num">
                  Actions
                </th>
              </tr>
            </thead>
            <tbody>
              {types.map(([t, n]) => (
                <tr key={t}>
                  <td>{t}</td>
                  <td className="num">{count(n)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        }
      />
    </div>
  );
}

function Versions({ policy, rights, onChanged }: { policy: Policy; rights: PolicyRights; onChanged: () => void }) {
  const { send, busy, outcome } = useSend(onChanged);
  const simulator = useSend(() => undefined);
  const [simulation, setSimulation] = useState<Simulation | null>(null);
  const simulate = async (v: PolicyVersionRow) => {
    setSimulation(
      await simulator.send<Simulation>(`/policies/versions/${v.version_id}/simulate`, {}, () => `Simulated version ${v.version}.`),
    );
  };
  return (
    <>
      <h4>Version history</h4>
      <OutcomeNote outcome={outcome} />
      <OutcomeNote outcome={simulator.outcome} />
      <table data-testid={`versions-${policy.policy_key}`}>
        <thead>
          <tr>
            <th scope="col">Version</th>
            <th scope="col">Status</th>
            <th scope="col">Author</th>
            <th scope="col">Approved by</th>
            <th scope="col">Created</th>
            <th scope="col">Activated</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {policy.versions.map((v) => (
            <tr key={v.version_id}>
              <td>{v.version}</td>
              <td>
                <span className={`badge ${v.status}`}>{v.status}</span>
              </td>
              <td>{v.author}</td>
              <td>{v.approved_by ?? '–'}</td>
              <td>{when(v.created_at)}</td>
              <td>{when(v.activated_at)}</td>
              <td className="buttons">
                {rights.simulate && v.status !== 'retired' && (
                  <button type="button" disabled={busy} onClick={() => void simulate(v)}>
                    Simulate v{v.version}
                  </button>
                )}
                {rights.approve && v.status === 'draft' && (
                  <button
                    type="button"
                    disabled={busy}
                    onClick={() => void send(`/policies/versions/${v.version_id}/approve`, {}, () => `Version ${v.version} approved.`)}
                  >
                    Approve v{v.version}
                  </button>
                )}
                {rights.activate && v.status === 'approved' && (
                  <button
                    type="button"
                    disabled={busy}
                    onClick={() => void send(`/policies/versions/${v.version_id}/activate`, {}, () => `Version ${v.version} is active.`)}
                  >
                    Activate v{v.version}
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {simulation && <SimulationView s={simulation} />}
      <VersionDiffView policy={policy} />
    </>
  );
}

function PolicyCard({
  policy,
  rights,
  onChanged,
  version,
}: {
  policy: Policy;
  rights: PolicyRights;
  onChanged: () => void;
  version: number;
}) {
  const shown = policy.versions.find((v) => v.status === 'active') ?? policy.versions[policy.versions.length - 1];
  const loaded = useApi<PolicyVersion>(shown ? `/policies/versions/${shown.version_id}` : null, version);
  const [carried, setCarried] = useState<number | null>(null);
  return (
    <section className="card" aria-labelledby={`policy-${policy.policy_key}`}>
      <h3 id={`policy-${policy.policy_key}`}>
        {policy.name} ({policy.policy_key})
      </h3>
      {shown && (
        <Await loaded={loaded}>
          {(v) => (
            <>
              <p className="muted">
                Parameters of version {v.version} ({v.status}).
              </p>
              <Parameters version={v} />
              {rights.tune && <ThresholdTuning versionId={v.versionId} onCarry={rights.draft ? setCarried : undefined} />}
              {rights.draft && (
                <ParametersForm
                  key={v.versionId}
                  policyKey={policy.policy_key}
                  parameters={v.parameters}
                  carried={carried}
                  onChanged={onChanged}
                />
              )}
            </>
          )}
        </Await>
      )}
      <Versions policy={policy} rights={rights} onChanged={onChanged} />
    </section>
  );
}

function KillSwitch({ may }: { may: boolean }) {
  const [version, reload] = useReducer((n: number) => n + 1, 0);
  const loaded = useApi<{ on: boolean }>('/kill-switch', version);
  const [reason, setReason] = useState('');
  const { send, busy, outcome } = useSend(reload);
  return (
    <section className="card" aria-labelledby="kill-heading">
      <h3 id="kill-heading">Kill switch</h3>
      <Await loaded={loaded}>
        {({ on }) => (
          <>
            <p data-testid="kill-switch">
              {on ? 'On: every automated action is held.' : 'Off: actions flow as the active policy decides.'}
            </p>
            {may && (
              <div className="decide">
                <label>
                  Reason
                  <input value={reason} onChange={(e) => setReason(e.target.value)} />
                </label>
                <button
                  type="button"
                  disabled={busy || reason.trim() === ''}
                  onClick={() => void send('/kill-switch', { on: !on, reason }, () => `Kill switch ${on ? 'off' : 'on'}.`)}
                >
                  Turn {on ? 'off' : 'on'}
                </button>
              </div>
            )}
            <OutcomeNote outcome={outcome} />
          </>
        )}
      </Await>
    </section>
  );
}

function Suppressions({ may }: { may: boolean }) {
  const [version, reload] = useReducer((n: number) => n + 1, 0);
  const loaded = useApi<{ suppressions: Suppression[] }>('/suppressions', version);
  const [scope, setScope] = useState('customer');
  const [value, setValue] = useState('');
  const [reason, setReason] = useState('');
  const { send, busy, outcome } = useSend(reload);
  const add = (event: FormEvent) => {
    event.preventDefault();
    void send('/suppressions', { scope, value, reason }, () => `${scope} ${value} suppressed.`);
  };
  return (
    <section className="card" aria-labelledby="suppressions-heading">
      <h3 id="suppressions-heading">Suppressions</h3>
      <Await loaded={loaded}>
        {({ suppressions }) =>
          suppressions.length === 0 ? (
            <p>No active suppression.</p>
          ) : (
            <table data-testid="suppressions">
              <thead>
                <tr>
                  <th scope="col">Scope</th>
                  <th scope="col">Value</th>
                  <th scope="col">Reason</th>
                  <th scope="col">By</th>
                  <th scope="col">Expires</th>
                  {may && <th scope="col">Lift</th>}
                </tr>
              </thead>
              <tbody>
                {suppressions.map((s) => (
                  <tr key={s.suppression_id}>
                    <td>{s.scope}</td>
                    <td>{s.value}</td>
                    <td>{s.reason}</td>
                    <td>{s.created_by}</td>
                    <td>{s.expires_at ? day(s.expires_at) : 'never'}</td>
                    {may && (
                      <td>
                        <button
                          type="button"
                          disabled={busy || reason.trim() === ''}
                          onClick={() => void send(`/suppressions/${s.suppression_id}/lift`, { reason }, () => `Suppression lifted.`)}
                        >
                          Lift (with the reason below)
                        </button>
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Await>
      {may && (
        <form onSubmit={add} className="filters" aria-label="Add a suppression">
          <label>
            Scope
            <select value={scope} onChange={(e) => setScope(e.target.value)}>
              <option>customer</option>
              <option>segment</option>
              <option>campaign</option>
            </select>
          </label>
          <label>
            Value
            <input value={value} onChange={(e) => setValue(e.target.value)} className="short" />
          </label>
          <label>
            Reason
            <input value={reason} onChange={(e) => setReason(e.target.value)} className="short" />
          </label>
          <button type="submit" disabled={busy || value.trim() === '' || reason.trim() === ''}>
            Suppress
          </button>
        </form>
      )}
      <OutcomeNote outcome={outcome} />
    </section>
  );
}

export function PoliciesPage({ rights }: { rights: PolicyRights }) {
  const [version, reload] = useReducer((n: number) => n + 1, 0);
  const loaded = useApi<{ policies: Policy[] }>('/policies', version);
  return (
    <>
      <h2>Policies</h2>
      <Await loaded={loaded}>
        {({ policies }) =>
          policies.length === 0 ? (
            <p>No policy yet.</p>
          ) : (
            policies.map((p) => <PolicyCard key={p.policy_key} policy={p} rights={rights} onChanged={reload} version={version} />)
          )
        }
      </Await>
      <div className="grid">
        <KillSwitch may={rights.killSwitch} />
        <Suppressions may={rights.suppress} />
      </div>
    </>
  );
}
