/*
 * The last hour of the dashboard's charts, kept by the node itself so that a page load shows the
 * recent past at once instead of starting empty (and an operator who opens the page after an
 * incident sees it). One point a second per series; a series is a fixed-size ring of numbers, so
 * the memory is bounded by points × series whatever the traffic: about 3600 × 5 numbers per
 * service, and services that vanished from the config are dropped.
 */

/** A point: seconds since the epoch, then the series' values (null: no value, e.g. no traffic). */
export type HistoryRow = readonly (number | null)[];

/** Columns oldest first (the first column is the time), as uPlot takes them. */
export type HistoryColumns = (number | null)[][];

/** A fixed-size ring of rows of `width` columns. */
export class RowRing {
  private readonly cols: (number | null)[][];
  private next = 0;
  private count = 0;

  constructor(private readonly size: number, readonly width: number) {
    this.cols = Array.from({ length: width }, () => new Array<number | null>(size).fill(null));
  }

  push(row: HistoryRow): void {
    for (let i = 0; i < this.width; i++) this.cols[i][this.next] = row[i] ?? null;
    this.next = (this.next + 1) % this.size;
    this.count = Math.min(this.count + 1, this.size);
  }

  get length(): number { return this.count; }

  columns(): HistoryColumns {
    const start = (this.next - this.count + this.size) % this.size;
    return this.cols.map((c) => Array.from({ length: this.count }, (_, i) => c[(start + i) % this.size]));
  }
}

/** Named series of rows, each a RowRing; series not pushed in a collection are dropped (gone from the config). */
export class History {
  private readonly series = new Map<string, RowRing>();

  /** `points`: rows kept per series (3600: an hour at one a second). */
  constructor(private readonly points = 3600) {}

  /** One collection: every series' row at this instant; a series absent here is forgotten. */
  record(rows: ReadonlyMap<string, HistoryRow>): void {
    for (const name of this.series.keys()) if (!rows.has(name)) this.series.delete(name);
    for (const [name, row] of rows) {
      let ring = this.series.get(name);
      if (ring === undefined || ring.width !== row.length) { ring = new RowRing(this.points, row.length); this.series.set(name, ring); }
      ring.push(row);
    }
  }

  /** Every series as columns, for a page that just connected. */
  dump(): Record<string, HistoryColumns> {
    return Object.fromEntries([...this.series].map(([name, ring]) => [name, ring.columns()]));
  }
}
