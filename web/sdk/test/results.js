// Shared by the SDK's and the app's tests: a classify() result for label → probability.

/** A classify() result (predictions sorted, most probable first) for label → probability. */
export const result = (probs, { autoSelect = false, unknown = false, unknownValue = 0.8, text = "x" } = {}) => ({
  predictions: Object.entries(probs)
    .map(([label, probability]) => ({ label, probability }))
    .sort((a, b) => b.probability - a.probability),
  autoSelect,
  unknown,
  unknownValue,
  text,
});
