/**
 * The environment lifecycle, as the reference's lifecycle.rs defines it:
 *
 *   any state  -> Built                 (build, rebuild, stop, unfreeze)
 *   Built      -> Running | Frozen | Archived
 *   Running    -> Frozen
 *   Frozen     -> Archived
 *
 * States are stored with the reference's spelling ("Built"); users see them
 * in lower case ("built"), as the reference's Display prints them.
 */
import { InvalidTransitionError } from "./errors.ts";

export const ENV_STATES = ["Defined", "Built", "Running", "Frozen", "Archived"] as const;
export type EnvState = (typeof ENV_STATES)[number];

const TRANSITIONS: Readonly<Record<EnvState, readonly EnvState[]>> = {
  Defined: ["Built"],
  Built: ["Built", "Running", "Frozen", "Archived"],
  Running: ["Built", "Frozen"],
  Frozen: ["Built", "Archived"],
  Archived: ["Built"],
};

export function isEnvState(value: string): value is EnvState {
  return (ENV_STATES as readonly string[]).includes(value);
}

/** Accepts "Built" or "built" (the reference's WAL accepts both). */
export function parseEnvState(value: string): EnvState | undefined {
  const capitalized = value.charAt(0).toUpperCase() + value.slice(1).toLowerCase();
  return isEnvState(capitalized) ? capitalized : undefined;
}

/** How users see a state: "built". */
export function displayState(state: EnvState): string {
  return state.toLowerCase();
}

export function allowedTransitions(from: EnvState): readonly EnvState[] {
  return TRANSITIONS[from];
}

export function canTransition(from: EnvState, to: EnvState): boolean {
  return TRANSITIONS[from].includes(to);
}

/**
 * Throws InvalidTransitionError naming the current state and the states it
 * may go to. `subject` names the environment in the message.
 */
export function assertTransition(from: EnvState, to: EnvState, subject = "the environment"): void {
  if (canTransition(from, to)) return;
  throw new InvalidTransitionError(displayState(from), displayState(to), TRANSITIONS[from].map(displayState), subject);
}
