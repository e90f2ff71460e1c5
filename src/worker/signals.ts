import type { Logger } from "../logger.js";

/**
 * SIGINT and SIGTERM handling shared by every Worker made with
 * `handleSignals: true` in this process.
 *
 * One pair of listeners serves them all. On a signal every member stops
 * (drains) at once, in parallel; when the last one has stopped, the listeners
 * go and the signal is raised again, once, so that its default action (exit)
 * happens as it would have without djps. Were each worker to listen and
 * re-raise on its own, the first to stop would end the process while the
 * others still ran jobs: cut off, not released, run again only once their
 * leases passed, with an attempt spent.
 *
 * A second signal while draining (SIGINT or SIGTERM: Ctrl-C twice, or
 * `kill` again) means "do not wait": every member releases its running jobs
 * at once, as when `shutdownTimeoutMs` passes, and the process exits as soon
 * as that is written. The jobs go back to the queue without spending an
 * attempt, to run elsewhere now. Exiting on the spot instead would cut them
 * off: they would wait out their leases and spend an attempt. It matters
 * because one Ctrl-C often arrives twice: under `npm run` (and pnpm, npx) the
 * terminal signals the whole process group and npm forwards its own copy.
 * SIGKILL remains for exiting without even that.
 */

/** A worker as the signal handling sees it. */
export interface SignalMember {
  /** Stops the worker; calling it again returns the stop in flight. */
  stop(): Promise<void>;
  /** Cuts a stop's grace period short: running jobs are released now. */
  releaseRunning(): void;
  readonly logger: Logger;
}

const SIGNALS = ["SIGINT", "SIGTERM"] as const;

const members = new Set<SignalMember>();
let listening = false;

/** From the first signal until the last member has stopped. */
let draining: { signal: NodeJS.Signals; hurried: boolean } | undefined;

/**
 * Adds a started worker. The first member installs the listeners. A worker
 * that starts while the process drains is stopped at once.
 */
export function joinSignals(member: SignalMember): void {
  members.add(member);
  if (!draining) return listen();
  stopMember(member);
  if (draining.hurried) member.releaseRunning();
}

/**
 * Removes a worker once `stopped` (its stop) settles. It stays a member until
 * then, so that a signal arriving meanwhile waits for that stop too.
 */
export function leaveSignalsWhen(member: SignalMember, stopped: Promise<unknown>): void {
  const leave = () => leaveSignals(member);
  stopped.then(leave, leave);
}

function onSignal(signal: NodeJS.Signals): void {
  if (!draining) {
    draining = { signal, hurried: false };
    for (const member of members) {
      member.logger.info({ signal }, "signal received: stopping gracefully");
      stopMember(member);
    }
    return;
  }
  if (draining.hurried) return;
  draining.hurried = true;
  for (const member of members) {
    member.logger.warn({ signal }, "second signal: releasing running jobs now");
    member.releaseRunning();
  }
}

function stopMember(member: SignalMember): void {
  const leave = () => leaveSignals(member);
  member.stop().then(leave, leave);
}

function leaveSignals(member: SignalMember): void {
  if (!members.delete(member) || members.size > 0) return;
  const signal = draining?.signal;
  draining = undefined;
  unlisten();
  // With our listeners gone, the signal's default action ends the process.
  if (signal) process.kill(process.pid, signal);
}

function listen(): void {
  if (listening) return;
  listening = true;
  for (const signal of SIGNALS) process.on(signal, onSignal);
}

function unlisten(): void {
  if (!listening) return;
  listening = false;
  for (const signal of SIGNALS) process.removeListener(signal, onSignal);
}
