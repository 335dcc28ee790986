// Today's inputs per host command, measured by this benchmark at the commit named, before any change
// meant to shrink them: the target is at most half of these, size for size.

export const BASELINE_COMMIT = "593ec9a";

/** Docker hosts → bytes of JSON inputs per host command (create, delete, triggers, connection). */
export const BASELINE_HOST_COMMAND_BYTES: Readonly<Record<number, number>> = {
  3: 476709 / 24,
  30: 7509746 / 186,
  // Printed rounded to 0.1 KB by the run that measured it.
  100: 98_400,
};
