/**
 * Capped log capture: receives output chunks (Buffers, in arrival order) and writes them to a
 * file whose size stays bounded.
 *
 * Layout of the final file when the output is larger than `capBytes`:
 *   the first floor(cap/2) bytes, then the marker line
 *   `\n[autoresearch: N bytes of output omitted]\n`, then the last cap - floor(cap/2) bytes.
 * When the output fits in the cap, the file is exactly the output.
 *
 * While the command runs, output is written straight to the file until it reaches `capBytes`
 * (so a live `tail -f` sees it); past that point only the latest bytes are kept in memory, in a
 * ring buffer of cap/2 bytes, and `close()` cuts the file back to its head and appends the marker
 * and the tail. Memory stays bounded by about cap/2 + 4 KiB whatever the command writes.
 * Writes are synchronous on one fd, so they are ordered.
 */
import { closeSync, ftruncateSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** Size of the always-available tail (`tail()`). */
export const TAIL_BYTES = 4096;

/** The marker line written between the head and the tail of a capped log. */
export function omittedMarker(omittedBytes: number): string {
  return `\n[autoresearch: ${omittedBytes} bytes of output omitted]\n`;
}

/**
 * Keeps the most recent `size` bytes written to it. Allocates its storage once, lazily.
 * Never throws.
 */
class ByteRing {
  private buf: Buffer | null = null;
  private pos = 0; // next write position
  private filled = 0; // bytes held, <= size

  constructor(readonly size: number) {}

  push(chunk: Buffer): void {
    if (this.size <= 0 || chunk.length === 0) return;
    const buf = (this.buf ??= Buffer.allocUnsafe(this.size));
    const src = chunk;
    if (src.length >= this.size) {
      src.copy(buf, 0, src.length - this.size);
      this.pos = 0;
      this.filled = this.size;
      return;
    }
    const first = Math.min(src.length, this.size - this.pos);
    src.copy(buf, this.pos, 0, first);
    if (first < src.length) src.copy(buf, 0, first);
    this.pos = (this.pos + src.length) % this.size;
    this.filled = Math.min(this.size, this.filled + src.length);
  }

  /** The held bytes, oldest first, as at most two views into the ring (no copy). */
  views(): Buffer[] {
    if (!this.buf || this.filled === 0) return [];
    if (this.filled < this.size) return [this.buf.subarray(0, this.filled)];
    return [this.buf.subarray(this.pos), this.buf.subarray(0, this.pos)].filter((b) => b.length > 0);
  }

  get length(): number {
    return this.filled;
  }
}

/**
 * Writer of one capped log file.
 *
 * Contract: `open` throws when the file (or its directory) cannot be created — a harness
 * problem, not the command's. After that, `write`, `close`, `tail` and the getters never throw:
 * a failing disk write is remembered in `writeError`, the file stops growing and the in-memory
 * tail keeps working. `write` after `close` is ignored. `close` is idempotent.
 */
export class LogCapture {
  private fd: number | null;
  private readonly headBytes: number;
  private readonly ring: ByteRing;
  private readonly tailRing = new ByteRing(TAIL_BYTES);
  private fileBytes = 0; // bytes written to the file while running (<= cap)
  private total = 0;
  private closed = false;
  private error: Error | null = null;

  private constructor(
    readonly path: string,
    readonly capBytes: number,
    fd: number,
  ) {
    this.fd = fd;
    this.headBytes = Math.floor(capBytes / 2);
    this.ring = new ByteRing(capBytes - this.headBytes);
  }

  /** Creates parent directories and opens (truncates) `path`. Throws on failure. */
  static open(path: string, capBytes: number): LogCapture {
    if (!Number.isFinite(capBytes) || capBytes < 0) throw new Error(`invalid log cap: ${capBytes}`);
    mkdirSync(dirname(path), { recursive: true });
    const fd = openSync(path, 'w');
    return new LogCapture(path, Math.floor(capBytes), fd);
  }

  /** Appends one chunk of output. Never throws. */
  write(chunk: Buffer): void {
    if (this.closed || chunk.length === 0) return;
    const before = this.total;
    this.total += chunk.length;
    this.tailRing.push(chunk);
    // The ring only needs bytes past the head: before that point the file holds them.
    if (this.total > this.headBytes) {
      const skip = Math.max(0, this.headBytes - before);
      this.ring.push(skip > 0 ? chunk.subarray(skip) : chunk);
    }
    if (this.fileBytes < this.capBytes) {
      const room = this.capBytes - this.fileBytes;
      const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
      this.writeAll(part, this.fileBytes);
      this.fileBytes += part.length;
    }
  }

  /**
   * Finishes the file: when the output overflowed the cap, cuts it back to the head and appends
   * the marker and the tail. Closes the fd. Never throws; idempotent.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.truncated && this.fd !== null && this.error === null) {
      try {
        ftruncateSync(this.fd, this.headBytes);
      } catch (err) {
        this.error = err as Error;
      }
      let at = this.headBytes;
      const marker = Buffer.from(omittedMarker(this.omittedBytes), 'utf8');
      for (const part of [marker, ...this.ring.views()]) {
        this.writeAll(part, at);
        at += part.length;
      }
    }
    if (this.fd !== null) {
      try {
        closeSync(this.fd);
      } catch (err) {
        this.error ??= err as Error;
      }
      this.fd = null;
    }
  }

  /** The last ~4 KiB of output, decoded as UTF-8 (a leading partial character is dropped). */
  tail(): string {
    const views = this.tailRing.views();
    const text = Buffer.concat(views).toString('utf8');
    return text.replace(/^\uFFFD+/, '');
  }

  /** Total bytes received, before capping. */
  get totalBytes(): number {
    return this.total;
  }

  /** True when the output did not fit in the cap (the file has a marker). */
  get truncated(): boolean {
    return this.total > this.capBytes;
  }

  /** Bytes left out of the final file. */
  get omittedBytes(): number {
    return this.truncated ? this.total - this.headBytes - this.ring.length : 0;
  }

  /** The first disk error met, if any (the file is then incomplete). */
  get writeError(): Error | null {
    return this.error;
  }

  private writeAll(buf: Buffer, position: number): void {
    if (this.fd === null || this.error !== null) return;
    try {
      let off = 0;
      while (off < buf.length) {
        off += writeSync(this.fd, buf, off, buf.length - off, position + off);
      }
    } catch (err) {
      this.error = err as Error;
    }
  }
}
