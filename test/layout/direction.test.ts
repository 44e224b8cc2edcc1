import { expect } from 'chai';
import path from 'node:path';
import { ESLint } from 'eslint';
import madge from 'madge';
import { projectRoot } from '../../lib/project-root';

/**
 * The layout's direction is enforced by `npm run lint` (eslint.config.mjs, and madge for cycles). These cases lint
 * code as if it sat in a given folder, so a rule that silently stopped matching would fail here.
 */
describe('Layout: import direction (lint)', function () {
  this.timeout(60_000);
  const eslint = new ESLint({ cwd: projectRoot });

  async function problems(file: string, code: string): Promise<string[]> {
    const [result] = await eslint.lintText(code, { filePath: path.join(projectRoot, file) });
    return result!.messages.filter((m) => m.severity === 2).map((m) => `${m.ruleId}: ${m.message}`);
  }

  const refused: [string, string, string][] = [
    [
      'a step importing a later step',
      'ingestion/upward.ts',
      "import { scoreCustomers } from '../scoring/score-customers';\nexport const f = scoreCustomers;\n",
    ],
    [
      'a step importing an entry point',
      'training/upward.ts',
      "import { createActivities } from '../activities';\nexport const f = createActivities;\n",
    ],
    ['lib importing the stack', 'lib/upward.ts', "import { openDb } from '../stack';\nexport const f = openDb;\n"],
    ['models importing knex', 'models/impure.ts', "import knex from 'knex';\nexport const f = knex;\n"],
    [
      'models importing feature SQL',
      'models/impure.ts',
      "import { computeFeatureSnapshot } from '../features/snapshots';\nexport const f = computeFeatureSnapshot;\n",
    ],
    ['models importing Temporal', 'models/impure.ts', "import { Connection } from '@temporalio/client';\nexport const f = Connection;\n"],
    [
      'a workflow importing activity code',
      'workflows/impure.ts',
      "import { createActivities } from '../activities';\nexport const f = createActivities;\n",
    ],
    ['a workflow importing node', 'workflows/impure.ts', "import fs from 'node:fs';\nexport const f = fs;\n"],
    ['the API importing the CLI', 'api/upward.ts', "import { withDatabase } from '../cli/with-db';\nexport const f = withDatabase;\n"],
    ['the console importing server code', 'console/src/upward.ts', "import { ROLES } from '../../lib/roles';\nexport const f = ROLES;\n"],
    ['the API importing the console', 'api/sideways.ts', "import { session } from '../console/src/api';\nexport const f = session;\n"],
  ];
  for (const [what, file, code] of refused) {
    it(`refuses ${what}`, async () => {
      expect((await problems(file, code)).filter((p) => /restricted/.test(p))).to.have.length.greaterThan(0);
    });
  }

  const allowed: [string, string, string][] = [
    ['the console importing its own code', 'console/src/ok.ts', "import { session } from './api';\nexport const f = session;\n"],
    [
      'a step importing an earlier step',
      'scoring/ok.ts',
      "import { getChampion } from '../registry/model-registry';\nexport const f = getChampion;\n",
    ],
    [
      'models importing the feature catalog',
      'models/ok.ts',
      "import { FEATURE_VERSION } from '../features/catalog';\nexport const f = FEATURE_VERSION;\n",
    ],
    [
      'a workflow importing activity types',
      'workflows/ok.ts',
      "import type { Activities } from '../activities';\nexport type A = Activities;\n",
    ],
  ];
  for (const [what, file, code] of allowed) {
    it(`allows ${what}`, async () => {
      expect(await problems(file, code)).to.deep.equal([]);
    });
  }

  it('finds no import cycle, type-only imports included (madge)', async () => {
    const graph = await madge(projectRoot, {
      fileExtensions: ['ts'],
      tsConfig: path.join(projectRoot, 'tsconfig.json'),
      excludeRegExp: [/^node_modules\//, /^dist\//],
    });
    expect(graph.circular()).to.deep.equal([]);
  });
});
