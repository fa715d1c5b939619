/** The workflow definition language: schema, types, validation, graph helpers, expressions and examples. */
export * from './constants.js';
export { workflowDefinitionSchema, workflowDefinitionSchema as definitionSchema, WORKFLOW_DEFINITION_SCHEMA_ID, type WorkflowDefinitionSchema } from './definitionSchema.js';
export * from './types.js';
export { validateDefinition, definitionProblems, type ValidationContext } from './validateDefinition.js';
export {
  ancestors,
  createGraph,
  descendants,
  findCycle,
  findCycles,
  gotoTarget,
  layers,
  stepGraph,
  topologicalOrder,
  type EdgeKind,
  type GraphEdge,
  type StepGraph,
} from './graph.js';
export {
  analyzeExpression,
  parseExpression,
  ExpressionSyntaxError,
  EXPRESSION_VARIABLES,
  ERROR_FIELDS,
  MAX_EXPRESSION_LENGTH,
  RUN_FIELDS,
  STEP_MEMBERS,
  type ExpressionAnalysis,
  type ExpressionIssue,
  type ExpressionNode,
  type ExpressionReference,
  type ExpressionVariable,
} from './expressions.js';
export { EXAMPLES, EXAMPLE_FILES, type ExampleName } from './examples.js';
