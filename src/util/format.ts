/** Formats a byte count for people: "1.50 MiB" (binary units). */
export function formatBytes(n: number, digits = 2): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(digits)} ${units[i]}`;
}
