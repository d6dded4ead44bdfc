/*
 * A user name goes into an LDAP filter (search mode) or a DN (bind DN template): escaped, so that a
 * name such as `*)(uid=*` is a name and not filter syntax, and `admin,ou=x` is not another DN.
 */

const hex = (c: string): string => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`;

/**
 * An assertion value in a search filter, RFC 4515 section 3: `*`, `(`, `)`, `\` and NUL are written
 * as a backslash and two hex digits; everything else (UTF-8 included) stands as it is.
 */
export function escapeFilterValue(value: string): string {
  return value.replace(/[*()\\\0]/g, hex);
}

/**
 * An attribute value in a DN, RFC 4514 section 2.4: `"`, `+`, `,`, `;`, `<`, `>`, `\` (and `=`,
 * which the RFC allows escaping and some servers need) get a backslash; NUL is `\00`; a leading `#`
 * or space and a trailing space are escaped too.
 */
export function escapeDnValue(value: string): string {
  let out = value.replace(/[\\"+,;<>=]/g, (c) => `\\${c}`).replace(/\0/g, '\\00');
  if (out.startsWith('#') || out.startsWith(' ')) out = `\\${out}`;
  if (out.endsWith(' ') && !out.endsWith('\\ ')) out = `${out.slice(0, -1)}\\ `;
  return out;
}

/** Fills `{name}` places of a template with values already escaped for where they go. */
export function fillTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (m, k: string) => values[k] ?? m);
}

/**
 * A DN in one spelling for comparing (group DNs in config against memberOf values): lower case, no
 * spaces around `,`, `=` and `+`. Directories answer `CN=NOC, OU=Groups` or `cn=noc,ou=groups` for
 * the same group; DN matching in LDAP is by the attributes' own rules, case-insensitive for cn/ou/dc.
 */
export function normalizeDn(dn: string): string {
  return dn.trim().toLowerCase().replace(/\s*(?<!\\)([,=+])\s*/g, '$1');
}
