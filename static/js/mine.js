// "My reports", kept on this device only: the tracking codes of reports sent from it and the
// public ids of reports its owner follows. Nothing here reaches the server but as the lookups
// the tracking page makes; a private window or a cleared browser simply forgets them.

const OWN = 'onegrid.mine';
const FOLLOWED = 'onegrid.following';
const MAX = 50; // the newest are kept

function read(key) {
  try {
    const list = JSON.parse(localStorage.getItem(key) || '[]');
    return Array.isArray(list) ? list.filter((x) => typeof x === 'string' && /^[A-Z0-9-]{3,40}$/.test(x)) : [];
  } catch {
    return [];
  }
}

function write(key, list) {
  try {
    localStorage.setItem(key, JSON.stringify(list.slice(0, MAX)));
  } catch { /* private mode: nothing is kept */ }
}

function add(key, id) {
  write(key, [id, ...read(key).filter((x) => x !== id)]);
}

/** Tracking codes of reports sent from this device, newest first (older pages kept only the secret). */
export function ownReports() {
  const codes = read(OWN);
  try {
    for (let i = 0; i < localStorage.length; i += 1) {
      const code = localStorage.key(i)?.match(/^onegrid\.secret\.([A-Z0-9-]{3,40})$/)?.[1];
      if (code && !codes.includes(code)) codes.push(code);
    }
  } catch { /* no storage */ }
  return codes;
}

export function rememberOwn(code) {
  add(OWN, code);
}

export function followed() {
  return read(FOLLOWED);
}

export function follow(publicId) {
  add(FOLLOWED, publicId);
}

export function unfollow(publicId) {
  write(FOLLOWED, read(FOLLOWED).filter((x) => x !== publicId));
}

export function isFollowed(publicId) {
  return read(FOLLOWED).includes(publicId);
}
