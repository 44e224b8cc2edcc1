import { useMemo, useState } from 'react';
import { apiDownload } from '../api';
import { Figure } from '../components/chart';
import { IntervalPlot, type IntervalRow } from '../components/interval-plot';
import { Await } from '../components/status';
import { count, day, money, number2, share } from '../format';
import type { Difference, ImpactVersion, PolicyImpact, SubgroupEffect } from '../impact-types';
import { useApi } from '../use-api';

const points = (value: number) => `${number2(value * 100)} pp`;

function DifferenceCells({ d, format }: { d: Difference | null; format: (v: number) => string }) {
  if (d === null) return <td colSpan={4}>too few customers in a group to compare</td>;
  return (
    <>
      <td className="num">{format(d.estimate)}</td>
      <td className="num">
        {format(d.lower)} to {format(d.upper)}
      </td>
      <td>
        {d.conclusive ? 'yes' : 'not yet'}
        {d.smallSample ? ' (small groups: rough)' : ''}
      </td>
      <td className="num">{count(d.sampleSizePerGroup)}</td>
    </>
  );
}

const DIFFERENCE_HEADINGS = (
  <>
    <th scope="col" className="num">
      Difference
    </th>
    <th scope="col" className="num">
      95% interval
    </th>
    <th scope="col">Conclusive</th>
    <th scope="col" className="num">
      Customers per group needed
    </th>
  </>
);

function subgroupRate(g: { customers: number; retained: number }) {
  return g.customers ? g.retained / g.customers : null;
}

/** The holdout split by whether the rule-based baseline would also have picked the customer. */
function subgroups(data: PolicyImpact): [string, SubgroupEffect][] {
  return [
    ['Also picked by the rule', data.baseline.effect.alsoPickedByRule],
    ['Picked by the model only', data.baseline.effect.pickedByModelOnly],
  ];
}

function ImpactReport({ data }: { data: PolicyImpact }) {
  const [downloadError, setDownloadError] = useState<string | null>(null);
  const rates = useMemo(
    () => ({
      categories: ['Treated', 'Control'],
      values: [data.treated.retentionRate ?? 0, data.control.retentionRate ?? 0],
      format: share,
    }),
    [data],
  );
  const b = data.baseline;
  const effects = subgroups(data);
  const intervals = useMemo(() => {
    const rows: IntervalRow[] = [];
    if (data.retention) rows.push({ label: 'All treated vs control', ...data.retention });
    for (const [label, e] of subgroups(data)) if (e.retention) rows.push({ label, ...e.retention });
    return rows;
  }, [data]);
  const download = () =>
    apiDownload(`/impact?policyVersion=${data.versionId}&horizonDays=${data.horizonDays}&format=csv`, 'impact.csv').then(
      () => setDownloadError(null),
      (e: Error) => setDownloadError(e.message),
    );
  return (
    <>
      <p className="muted">
        Policy {data.policyKey} v{data.version}: each customer&apos;s first decision under it, decided before {day(data.maturedBefore)} so
        that its {data.horizonDays}-day horizon has passed (orders are known up to {day(data.observedUntil)}). Treated: the action went
        ahead; control: the holdout, never contacted.
      </p>
      <div className="toolbar">
        <button type="button" onClick={() => void download()}>
          Download CSV
        </button>
        {downloadError && (
          <span role="alert" className="error">
            {downloadError}
          </span>
        )}
      </div>
      <dl className="stats">
        <div>
          <dt>Retention difference</dt>
          <dd data-testid="retention-difference">{data.retention ? points(data.retention.estimate) : '–'}</dd>
          {data.retention && (
            <dd className="muted" data-testid="retention-interval">
              95% interval {points(data.retention.lower)} to {points(data.retention.upper)}
            </dd>
          )}
        </div>
        <div>
          <dt>Incentive cost per incremental retained customer</dt>
          <dd>{money(data.costPerIncrementalRetained)}</dd>
          <dd className="muted">incentives {money(data.incentiveCost)}</dd>
        </div>
        <div>
          <dt>Revenue at risk identified early</dt>
          <dd data-testid="identified-early">{money(data.revenueAtRiskIdentifiedEarly)}</dd>
          <dd className="muted">picked before &quot;{b.rule}&quot; would have</dd>
        </div>
      </dl>
      {data.treated.customers === 0 && data.control.customers === 0 ? (
        <p>No decision under this version is old enough for its horizon to have passed yet.</p>
      ) : (
        <>
          <h3>Treated vs control</h3>
          <table data-testid="impact-table">
            <thead>
              <tr>
                <th scope="col">Measure</th>
                <th scope="col" className="num">
                  Treated
                </th>
                <th scope="col" className="num">
                  Control
                </th>
                {DIFFERENCE_HEADINGS}
              </tr>
            </thead>
            <tbody>
              <tr>
                <th scope="row">Customers</th>
                <td className="num">{count(data.treated.customers)}</td>
                <td className="num">{count(data.control.customers)}</td>
                <td colSpan={4} />
              </tr>
              <tr>
                <th scope="row">Retention rate over {data.horizonDays} days</th>
                <td className="num">{share(data.treated.retentionRate)}</td>
                <td className="num">{share(data.control.retentionRate)}</td>
                <DifferenceCells d={data.retention} format={points} />
              </tr>
              <tr>
                <th scope="row">Revenue per customer</th>
                <td className="num">{number2(data.treated.revenuePerCustomer)}</td>
                <td className="num">{number2(data.control.revenuePerCustomer)}</td>
                <DifferenceCells d={data.revenuePerCustomer} format={number2} />
              </tr>
            </tbody>
          </table>
          <div className="grid">
            <Figure
              title="Retention rate: treated vs control"
              series={rates}
              table={
                <p>
                  Treated {share(data.treated.retentionRate)}, control {share(data.control.retentionRate)} (the table above).
                </p>
              }
            />
            <figure className="figure">
              <figcaption>
                <h3>Retention difference with its 95% interval</h3>
              </figcaption>
              <IntervalPlot rows={intervals} format={points} label="Retention difference with its 95% interval" />
            </figure>
          </div>
        </>
      )}
      <h3>Against the rule-based baseline: {b.rule}</h3>
      <p className="muted">
        What a shop without a model would target, on the same {count(b.population)} scored customers at the same moment (recency as the
        scores knew it).
      </p>
      <table data-testid="baseline-table">
        <thead>
          <tr>
            <th scope="col">Customers</th>
            <th scope="col" className="num">
              Count
            </th>
            <th scope="col" className="num">
              Revenue at risk
            </th>
            <th scope="col" className="num">
              Retained without an offer
            </th>
          </tr>
        </thead>
        <tbody>
          <tr>
            <th scope="row">Picked by the policy</th>
            <td className="num">{count(b.policy.customers)}</td>
            <td className="num">{money(b.policy.revenueAtRisk)}</td>
            <td />
          </tr>
          <tr>
            <th scope="row">Picked by the rule</th>
            <td className="num">{count(b.rulePicks.customers)}</td>
            <td className="num">{money(b.rulePicks.revenueAtRisk)}</td>
            <td />
          </tr>
          <tr>
            <th scope="row">Picked by both</th>
            <td className="num">{count(b.both.customers)}</td>
            <td className="num">{money(b.both.revenueAtRisk)}</td>
            <td />
          </tr>
          <tr>
            <th scope="row">Identified early (policy, not yet the rule)</th>
            <td className="num">{count(b.identifiedEarly.customers)}</td>
            <td className="num">{money(b.identifiedEarly.revenueAtRisk)}</td>
            <td />
          </tr>
          <tr>
            <th scope="row">Rule&apos;s picks the policy left alone</th>
            <td className="num">{count(b.ruleOnly.customers)}</td>
            <td className="num">{money(b.ruleOnly.revenueAtRisk)}</td>
            <td className="num">{share(b.ruleOnly.retentionRate)}</td>
          </tr>
        </tbody>
      </table>
      <h4>The holdout split by the rule</h4>
      <table>
        <thead>
          <tr>
            <th scope="col">Customers</th>
            <th scope="col" className="num">
              Treated retained
            </th>
            <th scope="col" className="num">
              Control retained
            </th>
            {DIFFERENCE_HEADINGS}
          </tr>
        </thead>
        <tbody>
          {effects.map(([label, e]) => (
            <tr key={label}>
              <th scope="row">{label}</th>
              <td className="num">
                {share(subgroupRate(e.treated))} of {count(e.treated.customers)}
              </td>
              <td className="num">
                {share(subgroupRate(e.control))} of {count(e.control.customers)}
              </td>
              <DifferenceCells d={e.retention} format={points} />
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted">{data.method}</p>
    </>
  );
}

export function ImpactPage() {
  const versions = useApi<{ versions: ImpactVersion[] }>('/impact/versions');
  const [chosen, setChosen] = useState<number | null>(null);
  const [horizonDays, setHorizonDays] = useState(90);
  const list = versions.state === 'done' ? versions.data.versions : [];
  const versionId = chosen ?? list[0]?.versionId ?? null;
  const impact = useApi<PolicyImpact>(versionId === null ? null : `/impact?policyVersion=${versionId}&horizonDays=${horizonDays}`);
  return (
    <>
      <h2>Impact</h2>
      <Await loaded={versions}>
        {() =>
          list.length === 0 ? (
            <p>No policy has decided anything yet: evaluate a policy (foresight demo does) and come back.</p>
          ) : (
            <>
              <div className="filters">
                <label>
                  Policy version{' '}
                  <select value={versionId ?? ''} onChange={(e) => setChosen(Number(e.target.value))}>
                    {list.map((v) => (
                      <option key={v.versionId} value={v.versionId}>
                        {v.policyKey} v{v.version} ({v.status}; {count(v.actions)} actions, {count(v.holdout)} held out,{' '}
                        {day(v.firstDecidedAt)})
                      </option>
                    ))}
                  </select>
                </label>
                <label>
                  Horizon (days){' '}
                  <select value={horizonDays} onChange={(e) => setHorizonDays(Number(e.target.value))}>
                    {[30, 60, 90, 180, 365].map((d) => (
                      <option key={d} value={d}>
                        {d}
                      </option>
                    ))}
                  </select>
                </label>
              </div>
              {versionId !== null && <Await loaded={impact}>{(data) => <ImpactReport data={data} />}</Await>}
            </>
          )
        }
      </Await>
    </>
  );
}
