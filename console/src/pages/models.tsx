import { useReducer } from 'react';
import { OutcomeNote, useSend } from '../components/send';
import { Await } from '../components/status';
import { day, figure, when } from '../format';
import type { Model } from '../types';
import { useApi } from '../use-api';
import { ChurnCurves } from './model-curves';
import { PromotionControls, RollbackControl, ShadowReportView, type Sender } from './model-lifecycle';

/** What the signed-in role may change here, from GET /me's `may`. */
export interface ModelRights {
  promote: boolean;
  rollBack: boolean;
}

/** The numbers at the top of a model's metrics (nested up to two levels), named by their path: a first glance. */
function headlineMetrics(metrics: Record<string, unknown>, limit = 6): [string, number][] {
  const found: [string, number][] = [];
  const walk = (value: unknown, path: string, depth: number) => {
    if (typeof value === 'number' && Number.isFinite(value)) found.push([path, value]);
    else if (value !== null && typeof value === 'object' && !Array.isArray(value) && depth < 2) {
      for (const [key, inner] of Object.entries(value)) walk(inner, path === '' ? key : `${path}.${key}`, depth + 1);
    }
  };
  walk(metrics, '', 0);
  return found.slice(0, limit);
}

function ModelRow({ model }: { model: Model }) {
  return (
    <tr className={model.status === 'champion' ? 'champion' : undefined}>
      <td>{model.version}</td>
      <td>
        <span className={`badge ${model.status}`}>{model.status}</span>
      </td>
      <td>{model.trainingFrom === null ? `until ${day(model.trainingTo)}` : `${day(model.trainingFrom)} – ${day(model.trainingTo)}`}</td>
      <td>{when(model.createdAt)}</td>
      <td>{model.promotedAt === null ? '–' : `${when(model.promotedAt)} by ${model.promotedBy ?? 'unknown'}`}</td>
      <td>
        <ul className="metrics">
          {headlineMetrics(model.metrics).map(([name, value]) => (
            <li key={name}>
              {name}: {figure(value)}
            </li>
          ))}
        </ul>
        <details>
          <summary>All metrics of version {model.version}</summary>
          <pre>{JSON.stringify(model.metrics, null, 2)}</pre>
        </details>
      </td>
    </tr>
  );
}

function KindTable({ kind, models, rights, sender }: { kind: string; models: Model[]; rights: ModelRights; sender: Sender }) {
  const champion = models.find((m) => m.status === 'champion');
  const challengers = models.filter((m) => m.status === 'candidate' || m.status === 'shadow');
  return (
    <section aria-labelledby={`kind-${kind}`}>
      <h3 id={`kind-${kind}`}>{kind}</h3>
      <p>
        {champion ? `Champion: version ${champion.version}.` : 'No champion yet.'}{' '}
        {challengers.length === 0
          ? 'No candidate waiting.'
          : `Candidates: ${challengers.map((m) => `version ${m.version} (${m.status})`).join(', ')}.`}
      </p>
      <table data-testid={`models-${kind}`}>
        <thead>
          <tr>
            <th scope="col">Version</th>
            <th scope="col">Status</th>
            <th scope="col">Trained on</th>
            <th scope="col">Registered</th>
            <th scope="col">Status set</th>
            <th scope="col">Metrics</th>
          </tr>
        </thead>
        <tbody>
          {/* Champion first, then challengers, then the rest; newest first within each. */}
          {[...(champion ? [champion] : []), ...challengers, ...models.filter((m) => m !== champion && !challengers.includes(m))].map(
            (m) => (
              <ModelRow key={m.modelId} model={m} />
            ),
          )}
        </tbody>
      </table>
      {rights.rollBack && champion && <RollbackControl kind={kind} sender={sender} />}
      {challengers.map((m) => (
        <section key={m.modelId} aria-labelledby={`candidate-${m.modelId}`}>
          <h4 id={`candidate-${m.modelId}`}>
            Champion against candidate: version {m.version} ({m.status})
          </h4>
          <ShadowReportView model={m} />
          {rights.promote && <PromotionControls model={m} sender={sender} />}
        </section>
      ))}
      {kind === 'churn' &&
        [...(champion ? [champion] : []), ...challengers].map((m) => (
          <section key={m.modelId} aria-labelledby={`curves-${m.modelId}`}>
            <h4 id={`curves-${m.modelId}`}>
              Calibration and lift of version {m.version} ({m.status})
            </h4>
            <ChurnCurves model={m} />
          </section>
        ))}
    </section>
  );
}

export function ModelsPage({ rights }: { rights: ModelRights }) {
  const [version, reload] = useReducer((v: number) => v + 1, 0);
  const loaded = useApi<{ models: Model[] }>('/models', version);
  const { send, busy, outcome } = useSend(reload);
  return (
    <>
      <h2>Models</h2>
      <OutcomeNote outcome={outcome} />
      <Await loaded={loaded}>
        {({ models }) => {
          if (models.length === 0) return <p>No model is registered yet: train one (foresight demo, or the pipeline).</p>;
          const kinds = [...new Set(models.map((m) => m.kind))].sort();
          return kinds.map((kind) => (
            <KindTable key={kind} kind={kind} models={models.filter((m) => m.kind === kind)} rights={rights} sender={{ send, busy }} />
          ));
        }}
      </Await>
    </>
  );
}
