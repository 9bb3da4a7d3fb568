/** Who may do what. A role includes everything the roles below it may do. */
export const roles = ["viewer", "deployer", "admin"] as const;
export type Role = (typeof roles)[number];

/** The least role each kind of call needs. */
export type Permission = "read" | "deploy" | "admin";

const needed: Record<Permission, Role> = { read: "viewer", deploy: "deployer", admin: "admin" };

export function isRole(value: string): value is Role {
  return (roles as readonly string[]).includes(value);
}

export function allows(role: Role, permission: Permission): boolean {
  return roles.indexOf(role) >= roles.indexOf(needed[permission]);
}
