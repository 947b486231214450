export { scheduleValue } from './schedule.js';
export type { StepSchedule } from './schedule.js';
export { MixtureSampler } from './sampler.js';
export type { MixtureSource, MixtureState, MixtureDraw, MixtureSamplerOptions } from './sampler.js';
export { mixSources } from './mix.js';
export type { MixtureInput, MixedItem } from './mix.js';
