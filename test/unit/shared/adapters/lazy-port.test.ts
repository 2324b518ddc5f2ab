import { lazyPort } from '../../../../shared/adapters/lazy-port';

interface Greeter {
  greet(name: string): Promise<string>;
}

describe('lazyPort', () => {
  it('loads the adapter on the first call only, and shares one load between concurrent calls', async () => {
    let loads = 0;
    const port = lazyPort<Greeter>(async () => {
      loads++;
      return { greet: async (name) => `hello ${name}` };
    });
    expect(loads).toBe(0);
    await expect(Promise.all([port.greet('a'), port.greet('b')])).resolves.toEqual(['hello a', 'hello b']);
    await port.greet('c');
    expect(loads).toBe(1);
  });

  it('retries a failed load on the next call instead of remembering the failure', async () => {
    let loads = 0;
    const port = lazyPort<Greeter>(async () => {
      loads++;
      if (loads === 1) throw new Error('module not available');
      return { greet: async () => 'ok' };
    });
    await expect(port.greet('x')).rejects.toThrow('module not available');
    await expect(port.greet('x')).resolves.toBe('ok');
    expect(loads).toBe(2);
  });

  it('passes the adapter as `this` and propagates its errors', async () => {
    class Counter {
      count = 0;
      async greet(): Promise<string> {
        this.count++;
        if (this.count > 1) throw new Error('once only');
        return String(this.count);
      }
    }
    const port = lazyPort<Greeter>(async () => new Counter());
    await expect(port.greet('x')).resolves.toBe('1');
    await expect(port.greet('x')).rejects.toThrow('once only');
  });

  it('is not a thenable, so awaiting the port itself loads nothing', async () => {
    let loads = 0;
    const port = lazyPort<Greeter>(async () => {
      loads++;
      return { greet: async () => 'x' };
    });
    expect(await Promise.resolve(port)).toBe(port);
    expect(loads).toBe(0);
  });
});
