import type { Express } from 'express';
import { z } from 'zod';
import { activate, approve, createDraft, loadVersion, retire } from '../../policy/lifecycle';
import { killSwitchOn } from '../../policy/kill-switch';
import { changeKillSwitch } from '../../delivery/kill-switch-release';
import { simulatePolicy } from '../../policy/simulate-policy';
import { thresholdCostCurve } from '../../policy/threshold-costs';
import { diffVersions } from '../../policy/version-diff';
import { addSuppression, liftSuppression } from '../../policy/suppressions';
import { NotFoundError } from '../../lib/errors';
import type { Principal } from '../locals';
import { defineRoute } from '../openapi';
import type { RouteContext } from '../route-context';
import { positiveIntParam } from '../validate';

const reason = z.string().trim().min(1).max(1000);
const policyKey = (value: unknown) => {
  if (typeof value !== 'string' || !/^[a-z][a-z0-9_-]{0,62}$/.test(value))
    throw new NotFoundError(`Unknown policy ${String(value).slice(0, 80)}`);
  return value;
};
const actor = (p: Principal) => ({ name: p.name, role: p.role });

// Rules and parameters are validated by the policy layer (json-rules-engine and the parameters' schema), which names
// the field; here they only need to be JSON.
const draftBody = z
  .object({
    name: z.string().min(1).max(200).optional(),
    rules: z.array(z.record(z.unknown())).min(1).max(200),
    parameters: z.record(z.unknown()),
    note: z.string().max(1000).optional(),
  })
  .strict();
const parametersBody = z.object({ parameters: z.record(z.unknown()), note: z.string().max(1000).optional() }).strict();
const suppressionBody = z
  .object({
    scope: z.enum(['customer', 'segment', 'campaign']),
    value: z.string().trim().min(1).max(200),
    reason,
    expiresAt: z.string().datetime({ offset: true }).optional(),
  })
  .strict();
const suppressionsQuery = z.object({ active: z.enum(['true', 'false']).default('true') }).strict();
const diffQuery = z.object({ against: z.string().regex(/^[1-9]\d{0,15}$/, 'a version id (a positive whole number)') }).strict();
const killSwitchBody = z.object({ on: z.boolean(), reason }).strict();
const reasonBody = z.object({ reason }).strict();

const AUTHORS = ['owner', 'marketing'] as const;
const READERS = ['owner', 'marketing', 'finance', 'support', 'viewer', 'admin'] as const;

function versionView(v: Awaited<ReturnType<typeof loadVersion>>) {
  return {
    versionId: v.versionId,
    policyKey: v.policyKey,
    version: v.version,
    status: v.status,
    author: v.author,
    approvedBy: v.approvedBy,
    rules: v.rules,
    parameters: v.parameters,
  };
}

export function policyRoutes(app: Express, ctx: RouteContext): void {
  const { db } = ctx;
  defineRoute(
    app,
    ctx,
    { method: 'get', path: '/policies', summary: 'Policies with their versions (number, status, author, approver)', roles: [...READERS] },
    async () => {
      const versions = (await db('policy_versions')
        .orderBy(['policy_key', 'version'])
        .select(
          'version_id',
          'policy_key',
          'version',
          'status',
          'author',
          'approved_by',
          'created_at',
          'activated_at',
          'retired_at',
        )) as Record<string, unknown>[];
      const policies = (await db('policies').orderBy('policy_key').select('policy_key', 'name', 'created_by', 'created_at')) as Record<
        string,
        unknown
      >[];
      return { policies: policies.map((p) => ({ ...p, versions: versions.filter((v) => v.policy_key === p.policy_key) })) };
    },
  );
  defineRoute(
    app,
    ctx,
    { method: 'get', path: '/policies/:policyKey/versions', summary: "A policy's version history", roles: [...READERS] },
    async ({ params }) => {
      const key = policyKey(params.policyKey);
      const versions = await db('policy_versions').where({ policy_key: key }).orderBy('version').select('*');
      if (versions.length === 0) throw new NotFoundError(`Unknown policy ${key}`);
      return { policyKey: key, versions };
    },
  );
  defineRoute(
    app,
    ctx,
    { method: 'get', path: '/policies/versions/:versionId', summary: 'One version: rules and parameters', roles: [...READERS] },
    async ({ params }) => versionView(await loadVersion(db, positiveIntParam(params.versionId, 'versionId'))),
  );
  defineRoute(
    app,
    ctx,
    {
      method: 'get',
      path: '/policies/versions/:versionId/diff',
      summary: 'What changed from version `against` to this one: rules (by name) and parameters, path by path',
      roles: [...READERS],
      query: diffQuery,
    },
    async ({ params, query }) =>
      diffVersions(await loadVersion(db, Number(query.against)), await loadVersion(db, positiveIntParam(params.versionId, 'versionId'))),
  );
  defineRoute(
    app,
    ctx,
    {
      method: 'get',
      path: '/policies/versions/:versionId/threshold-costs',
      summary:
        "Cost of each churn threshold of the version's retention offer on the latest matured scoring run: missed churners' CLV against incentives paid to customers who stayed",
      roles: ['owner', 'marketing', 'finance'],
    },
    async ({ params }) => thresholdCostCurve(db, positiveIntParam(params.versionId, 'versionId')),
  );
  defineRoute(
    app,
    ctx,
    {
      method: 'post',
      path: '/policies/:policyKey/drafts',
      summary: 'A new draft version (rules and parameters); creates the policy with its first draft',
      roles: [...AUTHORS],
      body: draftBody,
      status: 201,
    },
    async ({ params, body, res }) =>
      versionView(await createDraft(db, { policyKey: policyKey(params.policyKey), ...body }, actor(res.locals.principal!))),
  );
  defineRoute(
    app,
    ctx,
    {
      method: 'post',
      path: '/policies/:policyKey/parameters',
      summary: "A new draft with the latest version's rules and these parameters (owners tune numbers, not rules)",
      roles: [...AUTHORS],
      body: parametersBody,
      status: 201,
    },
    async ({ params, body, res }) => {
      const key = policyKey(params.policyKey);
      const latest = (await db('policy_versions').where({ policy_key: key }).orderBy('version', 'desc').first('version_id')) as
        { version_id: string } | undefined;
      if (!latest) throw new NotFoundError(`Unknown policy ${key}`);
      const { rules } = await loadVersion(db, Number(latest.version_id));
      return versionView(
        await createDraft(db, { policyKey: key, rules, parameters: body.parameters, note: body.note }, actor(res.locals.principal!)),
      );
    },
  );
  defineRoute(
    app,
    ctx,
    {
      method: 'post',
      path: '/policies/versions/:versionId/approve',
      summary: 'Approve a draft (an owner other than its author)',
      roles: ['owner'],
    },
    async ({ params, res }) =>
      versionView(await approve(db, positiveIntParam(params.versionId, 'versionId'), actor(res.locals.principal!))),
  );
  defineRoute(
    app,
    ctx,
    {
      method: 'post',
      path: '/policies/versions/:versionId/activate',
      summary: 'Activate an approved version (retires the previous active one)',
      roles: ['owner'],
    },
    async ({ params, res }) =>
      versionView(await activate(db, positiveIntParam(params.versionId, 'versionId'), actor(res.locals.principal!))),
  );
  defineRoute(
    app,
    ctx,
    {
      method: 'post',
      path: '/policies/versions/:versionId/retire',
      summary: 'Retire a version, with a reason',
      roles: ['owner'],
      body: reasonBody,
    },
    async ({ params, body, res }) =>
      versionView(await retire(db, positiveIntParam(params.versionId, 'versionId'), actor(res.locals.principal!), body.reason)),
  );
  defineRoute(
    app,
    ctx,
    {
      method: 'post',
      path: '/policies/versions/:versionId/simulate',
      summary: 'What the version would do on the latest published scores, and the difference from the active version (writes nothing)',
      roles: ['owner', 'marketing', 'finance'],
    },
    async ({ params }) => simulatePolicy(db, positiveIntParam(params.versionId, 'versionId')),
  );

  defineRoute(
    app,
    ctx,
    { method: 'get', path: '/suppressions', summary: 'Suppressions (active by default)', roles: [...READERS], query: suppressionsQuery },
    async ({ query }) => {
      const q = db('suppressions').orderBy('suppression_id', 'desc').limit(1000).select('*');
      if (query.active === 'true') q.whereNull('lifted_at').where((w) => w.whereNull('expires_at').orWhere('expires_at', '>', db.fn.now()));
      return { suppressions: await q };
    },
  );
  defineRoute(
    app,
    ctx,
    {
      method: 'post',
      path: '/suppressions',
      summary: 'Hold back every action for a customer, segment or campaign, with a reason and optional expiry',
      roles: ['owner', 'marketing', 'support'],
      body: suppressionBody,
      status: 201,
    },
    async ({ body, res }) => ({
      suppressionId: await addSuppression(
        db,
        { ...body, expiresAt: body.expiresAt ? new Date(body.expiresAt) : null },
        actor(res.locals.principal!),
      ),
    }),
  );
  defineRoute(
    app,
    ctx,
    {
      method: 'post',
      path: '/suppressions/:suppressionId/lift',
      summary: 'Lift a suppression, with a reason',
      roles: ['owner', 'marketing', 'support'],
      body: reasonBody,
    },
    async ({ params, body, res }) => {
      const id = positiveIntParam(params.suppressionId, 'suppressionId');
      await liftSuppression(db, id, actor(res.locals.principal!), body.reason);
      return { suppressionId: id, lifted: true };
    },
  );

  defineRoute(
    app,
    ctx,
    { method: 'get', path: '/kill-switch', summary: 'Whether the policy kill switch holds every automated action', roles: [...READERS] },
    async () => ({ on: await killSwitchOn(db) }),
  );
  defineRoute(
    app,
    ctx,
    {
      method: 'post',
      path: '/kill-switch',
      summary: 'Turn the policy kill switch on or off, with a reason (audited); lifting it releases the actions it held',
      roles: ['owner', 'admin'],
      body: killSwitchBody,
    },
    async ({ body, res }) => {
      const change = await changeKillSwitch(db, body.on, actor(res.locals.principal!), body.reason);
      return { on: change.on, released: change.released.length, expired: change.expired.length, suppressed: change.suppressed.length };
    },
  );
}
