/**
 * How a template miner is scored against labelled logs (Loghub's definitions, as in Zhu et al. "Tools and
 * Benchmarks for Automated Log Parsing", ICSE-SEIP 2019, and Jiang et al. "A Large-scale Evaluation for Log
 * Parsing Techniques", ISSTA 2024):
 * - grouping accuracy (GA): the share of messages whose parsed group holds exactly the lines of their true
 *   group (a true group split in two, or merged with another, scores none of its lines);
 * - parsing accuracy (PA): the share of messages whose parsed template string equals the true one.
 */

export interface TemplateAccuracy {
  groupingAccuracy: number;
  parsingAccuracy: number;
  messages: number;
  trueGroups: number;
  parsedGroups: number;
}

/**
 * `truth[i]` is message i's true template, `parsedGroup[i]` the group the miner put it in and `parsedTemplate[i]`
 * that group's template text. True groups are the distinct true templates.
 */
export function scoreTemplates(truth: readonly string[], parsedGroup: readonly (string | number)[], parsedTemplate: readonly string[]): TemplateAccuracy {
  if (parsedGroup.length !== truth.length || parsedTemplate.length !== truth.length) {
    throw new RangeError(`scoring ${truth.length} messages needs as many parsed groups and templates (got ${parsedGroup.length} and ${parsedTemplate.length})`);
  }
  const parsedSize = new Map<string | number, number>();
  for (const group of parsedGroup) parsedSize.set(group, (parsedSize.get(group) ?? 0) + 1);
  /** For each true group: its size, and the one parsed group all its lines are in (null once there are two). */
  const trueGroups = new Map<string, { size: number; parsed: string | number | null }>();
  let sameTemplate = 0;
  for (let i = 0; i < truth.length; i++) {
    const group = trueGroups.get(truth[i]!);
    if (!group) trueGroups.set(truth[i]!, { size: 1, parsed: parsedGroup[i]! });
    else {
      group.size++;
      if (group.parsed !== parsedGroup[i]) group.parsed = null;
    }
    if (parsedTemplate[i] === truth[i]) sameTemplate++;
  }
  let grouped = 0;
  for (const group of trueGroups.values()) {
    if (group.parsed !== null && parsedSize.get(group.parsed) === group.size) grouped += group.size;
  }
  const messages = truth.length;
  return {
    groupingAccuracy: messages ? grouped / messages : 0,
    parsingAccuracy: messages ? sameTemplate / messages : 0,
    messages,
    trueGroups: trueGroups.size,
    parsedGroups: parsedSize.size,
  };
}
