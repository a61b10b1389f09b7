/**
 * Calls `tick` every `intervalMs` while the tab is visible and the poller is on; a hidden
 * tab stops asking the service and catches up at once when it is shown again. Ticks never
 * overlap, and a failing tick is reported but does not stop the polling.
 */
export class Poller {
  private timer: number | undefined;
  private running = false;
  private on = false;
  private again = false;

  constructor(
    private readonly tick: () => Promise<void>,
    private readonly intervalMs: number,
    private readonly onError: (err: unknown) => void,
  ) {
    document.addEventListener('visibilitychange', () => {
      if (this.on && !document.hidden) void this.now();
    });
  }

  start(): void {
    this.on = true;
    void this.now();
  }

  stop(): void {
    this.on = false;
    clearTimeout(this.timer);
  }

  /** Poll right away (after an action), then carry on at the usual pace. */
  async now(): Promise<void> {
    clearTimeout(this.timer);
    if (this.running) {
      // The tick under way may have read the state from before the action: read it once more.
      this.again = true;
      return;
    }
    this.running = true;
    try {
      await this.tick();
    } catch (err) {
      this.onError(err);
    } finally {
      this.running = false;
      const delay = this.again ? 0 : this.intervalMs;
      this.again = false;
      if (this.on && !document.hidden) this.timer = window.setTimeout(() => void this.now(), delay);
    }
  }
}
