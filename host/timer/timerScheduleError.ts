/**
 * A timer trigger's schedule (or the time zone it is evaluated in) cannot be used. The message names the offending
 * expression or zone, because this error usually surfaces at indexing time, far from the `app.timer(...)` call.
 */
export class TimerScheduleError extends Error {
  /** The schedule expression (or time zone name) that was rejected. */
  readonly expression: string;

  constructor(message: string, expression: string) {
    super(message);
    this.name = 'TimerScheduleError';
    this.expression = expression;
  }
}
