// Grid cells drawn as SVG paths, for the console's merge mini-map and the dashboard's map:
// GeoJSON polygons in an equirectangular projection with longitude shrunk by cos(latitude),
// which keeps shapes true at a city's scale (tens of kilometres). No tiles, no library.

/** The polygons of a GeoJSON geometry, each a list of rings of [lng, lat]; none for other types. */
export function polygonsOf(geometry) {
  if (geometry?.type === 'Polygon') return [geometry.coordinates];
  if (geometry?.type === 'MultiPolygon') return geometry.coordinates;
  return [];
}

/** The box around [lng, lat] positions: {minX, minY, maxX, maxY}. */
export function bounds(positions) {
  const box = { minX: Infinity, minY: Infinity, maxX: -Infinity, maxY: -Infinity };
  for (const [x, y] of positions) {
    box.minX = Math.min(box.minX, x); box.maxX = Math.max(box.maxX, x);
    box.minY = Math.min(box.minY, y); box.maxY = Math.max(box.maxY, y);
  }
  return box;
}

/**
 * Fits `box` into a drawing `width` wide and at most `maxHeight` tall (at least `minHeight`),
 * `pad` from every edge, centred: {height, px}, px mapping [lng, lat] to [x, y].
 */
export function fit(box, { width, maxHeight, minHeight = 0, pad = 0 }) {
  const k = Math.cos((((box.minY + box.maxY) / 2) * Math.PI) / 180);
  const spanX = Math.max(1e-9, (box.maxX - box.minX) * k);
  const spanY = Math.max(1e-9, box.maxY - box.minY);
  const scale = Math.min((width - 2 * pad) / spanX, (maxHeight - 2 * pad) / spanY);
  const height = Math.max(minHeight, spanY * scale + 2 * pad);
  const offX = (width - spanX * scale) / 2;
  const offY = (height - spanY * scale) / 2;
  return { height, px: ([x, y]) => [offX + (x - box.minX) * k * scale, offY + (box.maxY - y) * scale] };
}

/** The SVG path data of a geometry's rings in the projection `px` (to a tenth; fill-rule evenodd for holes). */
export function pathData(geometry, px) {
  return polygonsOf(geometry).flatMap((poly) => poly.map((ring) =>
    `M${ring.map((p) => px(p).map((n) => n.toFixed(1)).join(',')).join('L')}Z`)).join('');
}
