/**
 * The worker's `Disposable`: returned by `registerFunction`/`registerHook` and exported by the core module.
 * Calling `dispose` more than once is a no-op.
 */
export class Disposable {
  static from(...disposableLikes: Array<{ dispose: () => unknown }>): Disposable {
    let pending: Array<{ dispose: () => unknown }> | undefined = disposableLikes;
    return new Disposable(() => {
      const list = pending;
      pending = undefined;
      for (const item of list ?? []) item.dispose();
    });
  }

  #callOnDispose: (() => unknown) | undefined;

  constructor(callOnDispose: () => unknown) {
    this.#callOnDispose = callOnDispose;
  }

  dispose(): unknown {
    const callback = this.#callOnDispose;
    this.#callOnDispose = undefined;
    return callback?.();
  }
}
