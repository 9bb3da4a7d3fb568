/**
 * Who may do what. People have one of viewer < deployer < admin, each including what the
 * ones before it may do. Applications get `sdk`: they may only report (experiment results,
 * later flag evaluations), never read or change anything else.
 */
export const roles = ["viewer", "deployer", "admin", "sdk"] as const;
export type Role = (typeof roles)[number];

export type Permission = "read" | "deploy" | "admin" | "report";

const granted: Record<Role, readonly Permission[]> = {
  viewer: ["read"],
  deployer: ["read", "deploy"],
  admin: ["read", "deploy", "admin", "report"],
  sdk: ["report"],
};

/** The role named in error messages as the one a call needs. */
export const leastRoleFor: Record<Permission, Role> = {
  read: "viewer",
  deploy: "deployer",
  admin: "admin",
  report: "sdk",
};

export function isRole(value: string): value is Role {
  return (roles as readonly string[]).includes(value);
}

export function allows(role: Role, permission: Permission): boolean {
  return granted[role].includes(permission);
}
