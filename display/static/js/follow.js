// The athletes a spectator follows, kept in this browser only (localStorage).
const KEY = "gambero.follow";
export const MAX_FOLLOWED = 12;

export function followed(storage = localStorage) {
  try {
    const value = JSON.parse(storage.getItem(KEY) || "[]");
    return Array.isArray(value) ? value.map(String) : [];
  } catch (_error) {
    return [];
  }
}

export function isFollowed(bib, storage = localStorage) {
  return followed(storage).includes(String(bib));
}

/** Follow or stop following; returns whether `bib` is now followed. */
export function toggleFollow(bib, storage = localStorage) {
  const list = followed(storage);
  const index = list.indexOf(String(bib));
  if (index >= 0) list.splice(index, 1);
  else list.push(String(bib));
  while (list.length > MAX_FOLLOWED) list.shift();
  try { storage.setItem(KEY, JSON.stringify(list)); } catch (_error) { /* private mode */ }
  return index < 0;
}
