/**
 * The last output of the shell, replayed to a browser that (re)attaches so it sees the
 * screen it left. Bounded in bytes: older output is dropped a whole chunk at a time,
 * which keeps the replay starting at a read boundary of the pty rather than anywhere.
 * Small chunks (an echoed keystroke) are merged, so the number of buffers held stays
 * small too.
 */
const MERGE_BELOW = 16 * 1024;

export class Scrollback {
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly limit: number) {}

  get bytes(): number {
    return this.size;
  }

  push(chunk: Buffer): void {
    if (chunk.length >= this.limit) {
      // A copy, so that a small tail does not keep a large buffer alive.
      this.chunks = [Buffer.from(chunk.subarray(chunk.length - this.limit))];
      this.size = this.limit;
      return;
    }
    const last = this.chunks.at(-1);
    if (last !== undefined && last.length + chunk.length < MERGE_BELOW)
      this.chunks[this.chunks.length - 1] = Buffer.concat([last, chunk]);
    else this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size > this.limit) {
      const first = this.chunks[0]!;
      if (this.chunks.length === 1) {
        // A merged chunk holds the newest output: keep its tail.
        this.chunks[0] = first.subarray(this.size - this.limit);
        this.size = this.limit;
      } else {
        this.chunks.shift();
        this.size -= first.length;
      }
    }
  }

  /** Everything kept, as one buffer (empty when nothing was written yet). */
  contents(): Buffer {
    return Buffer.concat(this.chunks, this.size);
  }
}
