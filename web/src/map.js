// The pages' map: Leaflet, bundled (no CDN). Tiles only when the deployment configures them
// (/config.json, Spin variable map_tiles_url); without tiles the map draws the grid cells on a
// plain background, which is enough to tap the right cell. Exposes a small API so the pages
// never touch Leaflet directly.
import L from 'leaflet';

/**
 * A map in `container`.
 * options: {tiles, attribution, center: [lat, lng], zoom, onPick(lat, lng), label}
 * Returns {setPoint(lat, lng, {pan}), showCells(geojson), addPoints([{lat, lng, label}]), pickCentre(), map}.
 */
export function createMap(container, options = {}) {
  const map = L.map(container, {
    center: options.center || [24.4798, 118.0894],
    zoom: options.zoom || 15,
    zoomControl: true,
    attributionControl: Boolean(options.tiles),
    keyboard: true,
  });
  if (options.tiles) {
    L.tileLayer(options.tiles, { attribution: options.attribution || '', maxZoom: 19, crossOrigin: true }).addTo(map);
  } else {
    container.classList.add('map-no-tiles');
  }
  if (options.label) container.setAttribute('aria-label', options.label);

  let cells = null;
  let marker = null;
  let points = null;

  function setPoint(lat, lng, { pan = true } = {}) {
    const at = [lat, lng];
    if (!marker) {
      marker = L.circleMarker(at, { radius: 9, weight: 3, color: '#b3261e', fillColor: '#ffffff', fillOpacity: 0.9 }).addTo(map);
    } else {
      marker.setLatLng(at);
    }
    if (pan) map.panTo(at);
  }

  function showCells(geojson, { fit = false } = {}) {
    if (cells) cells.remove();
    cells = L.geoJSON(geojson, {
      style: () => ({ color: '#0b5cad', weight: 1.5, fillColor: '#0b5cad', fillOpacity: 0.06 }),
      onEachFeature: (feature, layer) => {
        const p = feature.properties || {};
        if (p.name) layer.bindTooltip(String(p.name), { sticky: true });
      },
    }).addTo(map);
    // A tap on a cell is a tap on the map: the cell layer must not swallow it.
    cells.on('click', (e) => pick(e.latlng));
    if (fit) map.fitBounds(cells.getBounds(), { padding: [12, 12] });
  }

  function addPoints(list) {
    if (points) points.remove();
    points = L.layerGroup(
      list.map((p) => L.circleMarker([p.lat, p.lng], { radius: 7, weight: 2, color: p.color || '#084885', fillOpacity: 0.8 })
        .bindTooltip(String(p.label || ''))),
    ).addTo(map);
    const bounds = L.latLngBounds(list.map((p) => [p.lat, p.lng]));
    if (bounds.isValid()) map.fitBounds(bounds.pad(0.5), { maxZoom: 17 });
  }

  function pick(latlng) {
    setPoint(latlng.lat, latlng.lng, { pan: false });
    options.onPick?.(latlng.lat, latlng.lng);
  }

  /** The keyboard way to choose: the point under the map's centre cross. */
  function pickCentre() {
    pick(map.getCenter());
  }

  map.on('click', (e) => pick(e.latlng));
  return { map, setPoint, showCells, addPoints, pickCentre };
}
