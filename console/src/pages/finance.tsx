import { useMemo, useState } from 'react';
import { apiDownload } from '../api';
import { Figure } from '../components/chart';
import { Await } from '../components/status';
import { count, money, when } from '../format';
import type { FinanceViews } from '../impact-types';
import { useApi } from '../use-api';

const name = (value: string | null) => value ?? 'not set';

function DownloadButton({ table, onError }: { table: 'segments' | 'channels'; onError: (message: string | null) => void }) {
  const download = () =>
    apiDownload(`/finance?format=csv&table=${table}`, `finance-${table}.csv`).then(
      () => onError(null),
      (e: Error) => onError(e.message),
    );
  return (
    <button type="button" onClick={() => void download()}>
      Download {table} CSV
    </button>
  );
}

function FinanceReport({ data }: { data: FinanceViews }) {
  const [downloadError, setDownloadError] = useState<string | null>(null);
  const atRisk = useMemo(
    () => ({
      categories: data.segments.map((s) => name(s.segment)),
      values: data.segments.map((s) => Number(s.revenueAtRisk)),
      format: (v: number) => money(v.toFixed(2)),
      horizontal: true,
    }),
    [data],
  );
  const clv = useMemo(
    () => ({
      categories: data.channels.map((c) => c.channel),
      values: data.channels.map((c) => Number(c.averageClv ?? 0)),
      format: (v: number) => money(v.toFixed(2)),
      horizontal: true,
    }),
    [data],
  );
  if (data.segments.length === 0) return <p>No customer has been scored yet: run the pipeline and come back.</p>;
  const horizon = data.clvHorizonMonths.join(' and ');
  return (
    <>
      <p className="muted">
        From the latest profile of each customer, scored {when(data.asOf)}; expected net revenue over the CLV horizon of {horizon} months,
        summed exactly. Money in the shop&apos;s currency.
      </p>
      <div className="toolbar">
        <DownloadButton table="segments" onError={setDownloadError} />
        <DownloadButton table="channels" onError={setDownloadError} />
        {downloadError && (
          <span role="alert" className="error">
            {downloadError}
          </span>
        )}
      </div>
      <div className="grid">
        <Figure title="Revenue at risk by segment" series={atRisk} table={<p>The numbers are in the table below the charts.</p>} />
        <Figure title="Average CLV by acquisition channel" series={clv} table={<p>The numbers are in the table below the charts.</p>} />
      </div>
      <h3>Expected revenue and revenue at risk by segment</h3>
      <table data-testid="segments-table">
        <thead>
          <tr>
            <th scope="col">Segment</th>
            <th scope="col" className="num">
              Customers
            </th>
            <th scope="col" className="num">
              Expected revenue
            </th>
            <th scope="col" className="num">
              Revenue at risk
            </th>
            <th scope="col" className="num">
              Expected to stay
            </th>
            <th scope="col" className="num">
              Average CLV
            </th>
          </tr>
        </thead>
        <tbody>
          {data.segments.map((s) => (
            <tr key={name(s.segment)}>
              <th scope="row">{name(s.segment)}</th>
              <td className="num">{count(s.customers)}</td>
              <td className="num">{money(s.expectedRevenue)}</td>
              <td className="num">{money(s.revenueAtRisk)}</td>
              <td className="num">{money(s.expectedRevenueRetained)}</td>
              <td className="num">{money(s.averageClv)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>CLV against acquisition cost by channel</h3>
      <p className="muted">
        Channel: the customers file&apos;s acquisition channel. Acquisition costs come from FORESIGHT_ACQUISITION_COSTS
        {data.configuredChannels.length === 0 ? ' (none configured: set it to compare)' : ''}.
      </p>
      <table data-testid="channels-table">
        <thead>
          <tr>
            <th scope="col">Channel</th>
            <th scope="col" className="num">
              Customers
            </th>
            <th scope="col" className="num">
              Expected revenue
            </th>
            <th scope="col" className="num">
              Average CLV
            </th>
            <th scope="col" className="num">
              Acquisition cost
            </th>
            <th scope="col" className="num">
              CLV less cost
            </th>
            <th scope="col" className="num">
              CLV / cost
            </th>
          </tr>
        </thead>
        <tbody>
          {data.channels.map((c) => (
            <tr key={c.channel}>
              <th scope="row">{c.channel}</th>
              <td className="num">{count(c.customers)}</td>
              <td className="num">{money(c.expectedRevenue)}</td>
              <td className="num">{money(c.averageClv)}</td>
              <td className="num">{c.acquisitionCost === null ? 'not configured' : money(c.acquisitionCost)}</td>
              <td className="num">{money(c.clvLessAcquisitionCost)}</td>
              <td className="num">{c.clvToAcquisitionCost ?? '–'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

export function FinancePage() {
  const loaded = useApi<FinanceViews>('/finance');
  return (
    <>
      <h2>Finance</h2>
      <Await loaded={loaded}>{(data) => <FinanceReport data={data} />}</Await>
    </>
  );
}
