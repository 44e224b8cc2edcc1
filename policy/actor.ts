import type { Role } from '../lib/roles';

/** Who does something to a policy: an API key's name and role, or a CLI operator (role null). */
export interface Actor {
  name: string;
  role: Role | null;
}
