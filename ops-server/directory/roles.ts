import type { Role } from '../users.ts';
import { normalizeDn } from './escape.ts';

/**
 * A session has one role (ops-server/users.ts): a person whose groups give several gets the first of
 * these. admin includes every other; noc and soc are side by side (neither includes the other), and
 * soc comes first because it reads the security data (audit, logs, security events). The audit entry
 * of the sign-in lists every role the groups gave, so a person put in both sees why.
 */
export const ROLE_PRECEDENCE: readonly Role[] = ['admin', 'soc', 'noc', 'viewer'];

export interface RoleMapping {
  /** The role given, or undefined when no group is mapped (the sign-in is refused). */
  role?: Role;
  /** Every role the groups gave, in precedence order. */
  roles: Role[];
  /** The user's groups that are mapped, as the directory spelled them. */
  matched: string[];
}

/** Maps a user's group DNs to a role through `groupRoles` (DN -> role, compared normalized). */
export function roleFromGroups(groups: readonly string[], groupRoles: Readonly<Record<string, Role>>): RoleMapping {
  const byDn = new Map(Object.entries(groupRoles).map(([dn, role]) => [normalizeDn(dn), role]));
  const given = new Set<Role>();
  const matched: string[] = [];
  for (const g of groups) {
    const role = byDn.get(normalizeDn(g));
    if (!role) continue;
    given.add(role);
    matched.push(g);
  }
  const roles = ROLE_PRECEDENCE.filter((r) => given.has(r));
  return { role: roles[0], roles, matched };
}
