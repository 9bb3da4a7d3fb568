export { type AuditEvent, AuditLog, type AuditQuery, type NewAuditEvent } from "./audit-log.ts";
