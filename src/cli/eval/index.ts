/** The benchmarks `sg eval` knows; each module exports one `Evaluation`. */
import type { CliCommand } from '../command';
import { loghubEvaluation } from './loghub';
import { m4Evaluation } from './m4';
import { nabEvaluation } from './nab';

/** A benchmark of `sg eval`: same shape as a command (its name is the benchmark's). */
export type Evaluation = CliCommand;

export const EVALUATIONS: Evaluation[] = [loghubEvaluation, m4Evaluation, nabEvaluation];
