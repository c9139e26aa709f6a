// How often a crashed server is restarted before giving up: pure, unit-tested.

export class CrashPolicy {
    private readonly times: number[] = [];

    /** At most `maxRestarts` restarts within `windowMs`; the clock is injectable for tests. */
    constructor(
        private readonly maxRestarts = 4,
        private readonly windowMs = 3 * 60 * 1000,
        private readonly now: () => number = Date.now,
    ) {}

    /** Records a crash; true when the server should be started again. */
    crashed(): boolean {
        const t = this.now();
        this.times.push(t);
        while (this.times.length && t - this.times[0] > this.windowMs) {
            this.times.shift();
        }
        return this.times.length <= this.maxRestarts;
    }

    reset(): void {
        this.times.length = 0;
    }
}

/** Runs async tasks one after another, so that a restart never overlaps a start or a stop. */
export class Serializer {
    private tail: Promise<unknown> = Promise.resolve();

    run<T>(task: () => Promise<T>): Promise<T> {
        const result = this.tail.then(task, task);
        this.tail = result.catch(() => undefined);
        return result;
    }
}
