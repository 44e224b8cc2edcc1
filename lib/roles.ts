/**
 * The roles an API key can have (the api_keys_role_check constraint lists the same eight). viewer reads; marketing,
 * support and finance work their part of the decisions; owner is the business owner who approves; ml looks after
 * models; service is a campaign system's key (reads what it needs to act); admin runs the installation.
 */
export const ROLES = ['viewer', 'marketing', 'support', 'finance', 'owner', 'ml', 'service', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return (ROLES as readonly unknown[]).includes(value);
}
