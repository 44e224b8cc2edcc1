import { useEffect, useState } from 'react';
import { apiGet, onUnauthorised, session } from './api';
import { ApprovalsPage } from './pages/approvals';
import { CustomerPage } from './pages/customer';
import { DecisionPage } from './pages/decision';
import { FinancePage } from './pages/finance';
import { ImpactPage } from './pages/impact';
import { InsightsPage } from './pages/insights';
import { ModelsPage } from './pages/models';
import { MonitoringPage } from './pages/monitoring';
import { OverviewPage } from './pages/overview';
import { PoliciesPage } from './pages/policies';
import { SignIn } from './pages/sign-in';
import { WebhooksPage } from './pages/webhooks';
import { Link, usePath } from './router';
import type { Me } from './types';

/** A page of the console, shown in the navigation only when the signed-in role may call the route it reads. */
interface Page {
  path: string;
  label: string;
  needs: string;
}

const PAGES: Page[] = [
  { path: '/overview', label: 'Overview', needs: 'GET /overview' },
  { path: '/customers', label: 'Customer', needs: 'GET /customer/profile/:id' },
  { path: '/approvals', label: 'Approvals', needs: 'GET /approvals' },
  { path: '/policies', label: 'Policies', needs: 'GET /policies' },
  { path: '/models', label: 'Models', needs: 'GET /models' },
  { path: '/monitoring', label: 'Monitoring', needs: 'GET /monitoring' },
  { path: '/webhooks', label: 'Webhooks', needs: 'GET /webhooks/deliveries' },
  { path: '/insights', label: 'Insights', needs: 'GET /insights' },
  { path: '/impact', label: 'Impact', needs: 'GET /impact' },
  { path: '/finance', label: 'Finance', needs: 'GET /finance' },
];

function PageFor({ path, me, pages }: { path: string; me: Me; pages: Page[] }) {
  const customer = /^\/customers(?:\/([^/]+))?\/?$/.exec(path);
  const decision = /^\/decisions\/(\d+)\/?$/.exec(path);
  const may = (route: string) => me.may.includes(route);
  if (path === '/' || path === '') {
    const first = pages[0];
    return first ? <PageFor path={first.path} me={me} pages={pages} /> : <p>This key&apos;s role has no page in the console.</p>;
  }
  if (path === '/overview') return <OverviewPage />;
  if (customer) {
    return (
      <CustomerPage
        customerId={customer[1] === undefined ? null : decodeURIComponent(customer[1])}
        lookAlikes={may('GET /customer/profile/:id/similar')}
      />
    );
  }
  if (path === '/models')
    return <ModelsPage rights={{ promote: may('POST /models/:id/promotion'), rollBack: may('POST /models/:kind/rollback') }} />;
  if (path === '/insights') return <InsightsPage />;
  if (path === '/monitoring') return <MonitoringPage mayResolve={may('POST /alerts/:alertId/resolve')} />;
  if (decision) return <DecisionPage actionId={decision[1]!} />;
  if (path === '/approvals') return <ApprovalsPage mayDecide={may('POST /approvals/:actionId/approve')} />;
  if (path === '/policies') {
    return (
      <PoliciesPage
        rights={{
          draft: may('POST /policies/:policyKey/parameters'),
          approve: may('POST /policies/versions/:versionId/approve'),
          activate: may('POST /policies/versions/:versionId/activate'),
          simulate: may('POST /policies/versions/:versionId/simulate'),
          tune: may('GET /policies/versions/:versionId/threshold-costs'),
          suppress: may('POST /suppressions'),
          killSwitch: may('POST /kill-switch'),
        }}
      />
    );
  }
  if (path === '/impact') return <ImpactPage />;
  if (path === '/finance') return <FinancePage />;
  if (path === '/webhooks') return <WebhooksPage mayReplay={may('POST /webhooks/deliveries/:deliveryId/replay')} />;
  return (
    <>
      <h2>Page not found</h2>
      <p>
        There is no page at this address. <Link to="/">Go to the start page</Link>.
      </p>
    </>
  );
}

function Shell({ me, onSignOut }: { me: Me; onSignOut: () => void }) {
  const path = usePath();
  const pages = PAGES.filter((p) => me.may.includes(p.needs));
  useEffect(() => {
    const current = pages.find((p) => path.startsWith(p.path));
    document.title = current ? `${current.label} · Foresight` : 'Foresight console';
  }, [path, pages]);
  return (
    <>
      <a className="skip" href="#content">
        Skip to content
      </a>
      <header>
        <h1>Foresight</h1>
        <nav aria-label="Pages">
          <ul>
            {pages.map((p) => (
              <li key={p.path}>
                <Link to={p.path} aria-current={path.startsWith(p.path) ? 'page' : undefined}>
                  {p.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <p className="who">
          <span data-testid="who">
            {me.name} ({me.role})
          </span>
          <button type="button" onClick={onSignOut}>
            Sign out
          </button>
        </p>
      </header>
      <main id="content" tabIndex={-1}>
        <PageFor path={path} me={me} pages={pages} />
      </main>
    </>
  );
}

/**
 * Signed in while this tab holds a key the API accepts (checked with GET /me at sign-in and on reload); any 401 later
 * (a revoked key) returns to the sign-in form.
 */
export function App() {
  const [me, setMe] = useState<Me | null>(null);
  const [checking, setChecking] = useState(session.key() !== null);
  const signOut = () => {
    session.signOut();
    setMe(null);
  };
  useEffect(() => onUnauthorised(signOut), []);
  useEffect(() => {
    if (!checking) return;
    apiGet<Me>('/me')
      .then(setMe, () => session.signOut())
      .finally(() => setChecking(false));
  }, [checking]);
  if (checking) return <p aria-busy="true">Loading…</p>;
  if (me === null) return <SignIn onSignedIn={setMe} />;
  return <Shell me={me} onSignOut={signOut} />;
}
