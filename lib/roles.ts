/** The roles an API key can have (the api_keys_role_check constraint lists the same five). */
export const ROLES = ['owner', 'marketing', 'support', 'finance', 'ml'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return (ROLES as readonly unknown[]).includes(value);
}
