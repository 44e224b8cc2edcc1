import type { Express } from 'express';
import { portfolioOverview } from '../../scoring/portfolio-overview';
import type { RouteContext } from '../route-context';

/** The portfolio at a glance: read by the business roles and the ML team; support looks up single customers only. */
export function overviewRoutes(app: Express, { db, auth }: RouteContext): void {
  app.get('/overview', auth.allow('owner', 'marketing', 'finance', 'ml'), async (_req, res) => {
    res.json(await portfolioOverview(db));
  });
}
