/**
 * Who may do what. People have one of viewer < deployer < admin, each including what the
 * ones before it may do. Applications get `sdk`: they may only report (experiment results,
 * flag evaluations) and, when bound to a flag environment, read that environment's flags;
 * never read or change anything else.
 */
export const roles = ["viewer", "deployer", "admin", "sdk"] as const;
export type Role = (typeof roles)[number];

/**
 * `sync`: read one environment's flag set (SDK sync, OFREP). Every role has it; an sdk token
 * reads the environment it is bound to, people name one.
 */
export type Permission = "read" | "deploy" | "admin" | "report" | "sync";

const granted: Record<Role, readonly Permission[]> = {
  viewer: ["read", "sync"],
  deployer: ["read", "deploy", "sync"],
  admin: ["read", "deploy", "admin", "report", "sync"],
  sdk: ["report", "sync"],
};

/** The role named in error messages as the one a call needs. */
export const leastRoleFor: Record<Permission, Role> = {
  read: "viewer",
  deploy: "deployer",
  admin: "admin",
  report: "sdk",
  sync: "sdk",
};

export function isRole(value: string): value is Role {
  return (roles as readonly string[]).includes(value);
}

export function allows(role: Role, permission: Permission): boolean {
  return granted[role].includes(permission);
}
