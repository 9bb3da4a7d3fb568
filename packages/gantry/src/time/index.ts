export {
  dateOfDay,
  dayNumber,
  isTimeZone,
  type LocalDateTime,
  localDateTime,
  zonedInstant,
  zoneOffset,
} from "./zoned-time.ts";
