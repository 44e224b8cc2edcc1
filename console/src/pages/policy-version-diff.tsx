import { useState, type FormEvent } from 'react';
import { Await } from '../components/status';
import type { Policy } from '../types';
import { useApi } from '../use-api';

interface VersionChange {
  path: string;
  kind: 'added' | 'removed' | 'changed';
  before?: unknown;
  after?: unknown;
}

interface VersionDiff {
  from: { versionId: number; version: number; status: string };
  to: { versionId: number; version: number; status: string };
  changes: VersionChange[];
}

const shown = (value: unknown) =>
  value === undefined ? '–' : typeof value === 'string' ? value : JSON.stringify(value, null, typeof value === 'object' ? 1 : 0);

/** "parameters.actions.retention_offer.responseRate" as "parameters › actions › retention_offer › responseRate". */
const readablePath = (path: string) => path.split('.').join(' › ');

function Changes({ path }: { path: string }) {
  const loaded = useApi<VersionDiff>(path);
  return (
    <Await loaded={loaded}>
      {(diff) =>
        diff.changes.length === 0 ? (
          <p data-testid="diff">
            Versions {diff.from.version} and {diff.to.version} have the same rules and parameters.
          </p>
        ) : (
          <table data-testid="diff">
            <caption>
              From version {diff.from.version} ({diff.from.status}) to version {diff.to.version} ({diff.to.status}): {diff.changes.length}{' '}
              changes
            </caption>
            <thead>
              <tr>
                <th scope="col">What</th>
                <th scope="col">Change</th>
                <th scope="col">Version {diff.from.version}</th>
                <th scope="col">Version {diff.to.version}</th>
              </tr>
            </thead>
            <tbody>
              {diff.changes.map((c) => (
                <tr key={c.path} className={`diff-${c.kind}`}>
                  <th scope="row">{readablePath(c.path)}</th>
                  <td>{c.kind}</td>
                  <td>
                    <pre>{shown(c.before)}</pre>
                  </td>
                  <td>
                    <pre>{shown(c.after)}</pre>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )
      }
    </Await>
  );
}

/** Two versions of a policy side by side: what changed in the rules and the parameters. */
export function VersionDiffView({ policy }: { policy: Policy }) {
  const versions = policy.versions;
  const [from, setFrom] = useState(() => String(versions[versions.length - 2]?.version_id ?? ''));
  const [to, setTo] = useState(() => String(versions[versions.length - 1]?.version_id ?? ''));
  const [compared, setCompared] = useState<string | null>(null);
  if (versions.length < 2) return null;
  const compare = (event: FormEvent) => {
    event.preventDefault();
    setCompared(`/policies/versions/${to}/diff?against=${from}`);
  };
  const options = versions.map((v) => (
    <option key={v.version_id} value={v.version_id}>
      v{v.version} ({v.status})
    </option>
  ));
  return (
    <>
      <form className="filters" onSubmit={compare} aria-label={`Compare two versions of ${policy.policy_key}`}>
        <label>
          Compare version
          <select value={from} onChange={(e) => setFrom(e.target.value)}>
            {options}
          </select>
        </label>
        <label>
          with version
          <select value={to} onChange={(e) => setTo(e.target.value)}>
            {options}
          </select>
        </label>
        <button type="submit">Show the differences</button>
      </form>
      {compared && <Changes path={compared} />}
    </>
  );
}
