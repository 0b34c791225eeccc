// The console's texts for the gun panel, in English, Italian and German (merged into
// STRINGS by strings.js).
export const GUN_STRINGS = {
  en: {
  },
  it: {
  },
  de: {
  },
};
