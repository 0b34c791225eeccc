// The console's texts for the journal of actions, in English, Italian and German (merged into
// STRINGS by strings.js).
export const JOURNAL_STRINGS = {
  en: {
  },
  it: {
  },
  de: {
  },
};
