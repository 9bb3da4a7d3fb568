/**
 * Who may do what. People have one of viewer < deployer < admin, each including what the
 * ones before it may do. Applications get `sdk`: they may only report (experiment results,
 * flag evaluations) and, when bound to a flag environment, read that environment's flags;
 * never read or change anything else. Monitoring systems get `alerter`: they may only send
 * alerts (Alertmanager's webhook, the generic webhook, POST /api/v1/alerts).
 */
export const roles = ["viewer", "deployer", "admin", "sdk", "alerter"] as const;
export type Role = (typeof roles)[number];

/**
 * `sync`: read one environment's flag set (SDK sync, OFREP). Every role but alerter has it; an sdk token
 * reads the environment it is bound to, people name one.
 */
export type Permission = "read" | "deploy" | "admin" | "report" | "sync" | "alert";

const granted: Record<Role, readonly Permission[]> = {
  viewer: ["read", "sync"],
  deployer: ["read", "deploy", "sync", "alert"],
  admin: ["read", "deploy", "admin", "report", "sync", "alert"],
  sdk: ["report", "sync"],
  /** Monitoring systems (Alertmanager, webhooks): may only send alerts. */
  alerter: ["alert"],
};

/** The role named in error messages as the one a call needs. */
export const leastRoleFor: Record<Permission, Role> = {
  read: "viewer",
  deploy: "deployer",
  admin: "admin",
  report: "sdk",
  sync: "sdk",
  alert: "alerter",
};

export function isRole(value: string): value is Role {
  return (roles as readonly string[]).includes(value);
}

export function allows(role: Role, permission: Permission): boolean {
  return granted[role].includes(permission);
}
