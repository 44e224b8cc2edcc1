import path from 'node:path';
import { projectRoot } from '../../lib/project-root';

// Tests run on a stack of their own: their own home and Postgres port, so a developer's running stack, its data and
// its port are never touched (and a running stack never makes the tests fail). An explicit setting still wins, and
// DATABASE_URL (an external server) needs neither. Child processes (the CLI under test) inherit these.
process.env.FORESIGHT_HOME ??= path.join(projectRoot, '.foresight', 'test');
process.env.FORESIGHT_PG_PORT ??= '54339';
