// The console's texts for participants at the desk, in English, Italian and German (merged into
// STRINGS by strings.js).
export const PEOPLE_STRINGS = {
  en: {
  },
  it: {
  },
  de: {
  },
};
