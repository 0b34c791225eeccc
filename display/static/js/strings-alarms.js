// The console's texts for reader and journal alarms, and their acknowledgement, in English, Italian and German (merged into
// STRINGS by strings.js).
export const ALARM_STRINGS = {
  en: {
  },
  it: {
  },
  de: {
  },
};
