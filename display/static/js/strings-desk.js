// The console's texts for bib entry outcomes, an athlete's passings, voids and unknown bibs, in English, Italian and German (merged into
// STRINGS by strings.js).
export const DESK_STRINGS = {
  en: {
  },
  it: {
  },
  de: {
  },
};
