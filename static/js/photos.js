// Photos prepared in the browser, for a citizen's report (at most PHOTO_LIMIT, the server's
// PHOTOS_MAX) and a desk's result: each scaled to MAX_SIDE px on its long side and re-encoded as JPEG. Drawing onto a canvas
// keeps the pixels only, so the EXIF block (GPS position, phone model, time) is not sent; the
// server strips metadata again from whatever reaches it.

export const PHOTO_LIMIT = 3;
const MAX_SIDE = 1600;
const QUALITY = 0.82;

async function decode(file) {
  // createImageBitmap applies the EXIF orientation, so the picture stays upright without it.
  if ('createImageBitmap' in window) {
    try {
      return await createImageBitmap(file, { imageOrientation: 'from-image' });
    } catch { /* older engines: fall back to an <img> */ }
  }
  const url = URL.createObjectURL(file);
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    return img;
  } finally {
    URL.revokeObjectURL(url);
  }
}

/**
 * A chosen file → {name, data (base64 JPEG, no metadata), url (preview), bytes, width, height};
 * rejects if unreadable.
 */
export async function downscale(file) {
  const image = await decode(file);
  if (!image.width || !image.height) throw new Error('empty image');
  const scale = Math.min(1, MAX_SIDE / Math.max(image.width, image.height));
  const canvas = document.createElement('canvas');
  canvas.width = Math.max(1, Math.round(image.width * scale));
  canvas.height = Math.max(1, Math.round(image.height * scale));
  const ctx = canvas.getContext('2d');
  // JPEG has no transparency: a transparent PNG would otherwise turn black.
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(image, 0, 0, canvas.width, canvas.height);
  image.close?.();
  const blob = await new Promise((resolve, reject) =>
    canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('encoding failed'))), 'image/jpeg', QUALITY));
  const data = await new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(',')[1]);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
  return { name: file.name, data, url: URL.createObjectURL(blob), bytes: blob.size, width: canvas.width, height: canvas.height };
}
