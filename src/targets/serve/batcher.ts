/**
 * Micro-batching for `serve`: scoring requests that arrive while the model is busy are scored
 * together in the next model call, so concurrent clients get the local target's batched
 * throughput instead of one small model call per request.
 */
export class MicroBatcher<In, Out> {
  private queue: { input: In; resolve: (out: Out) => void; reject: (e: unknown) => void }[] = [];
  private scheduled = false;
  private running = false;

  constructor(
    private readonly run: (inputs: In[]) => Promise<Out[]>,
    private readonly maxBatch: number,
  ) {}

  submit(input: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.running) return;
    this.scheduled = true;
    // setImmediate runs after pending I/O callbacks, so requests that arrived together batch together.
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    if (this.queue.length === 0) return;
    this.running = true;
    const jobs = this.queue.splice(0, this.maxBatch);
    try {
      const outs = await this.run(jobs.map((j) => j.input));
      jobs.forEach((j, i) => j.resolve(outs[i]!));
    } catch (e) {
      for (const j of jobs) j.reject(e);
    } finally {
      this.running = false;
      if (this.queue.length > 0) this.schedule();
    }
  }
}
