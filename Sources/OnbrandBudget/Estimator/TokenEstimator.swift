/// Estimates how many tokens Gemini will count for a text, without its tokenizer.
///
/// The text is split into runs (``TextRuns``): words of each script, Han, kana and Hangul
/// characters, digits, punctuation, emoji, white space. Each run is priced from a table indexed by
/// its kind and length, measured on real text with the Gemma 3 SentencePiece model (Gemini's
/// vocabulary family): the mean number of tokens that runs of that kind and length cost
/// (``EstimatorCalibration``). Runs longer than the table continue its last slope. The sum is
/// raised by ``safetyMargin`` so that no sample under-counts by more than 3 %.
///
/// Measured on the 55-sample corpus (leave-one-out, so each sample is estimated by tables fitted
/// without it): see ``EstimatorCalibration/measurement`` and BENCHMARKS.md. Run lengths alone
/// cannot tell a common English word (one token) from a rare German one (three), so the spread is
/// wide and the margin that bounds under-counting costs over-counting; the exact tokenizer
/// (`--tokenizer`) is the precise answer.
///
/// Use it to plan and price; when an estimate lands near a model's input limit, the planner asks
/// the exact tokenizer or the API's `countTokens`.
public struct TokenEstimator: Sendable {
    /// Cost tables by run kind: `costs[kind][length - 1]` tokens for a run of `length` scalars.
    public var costs: [TextRunKind: [Double]]
    /// Latin words with capitals after the first letter (acronyms, SKUs) have their own table.
    public var capitalizedLatinCosts: [Double]
    /// Multiplier applied to the sum, so that estimates err on the side of over-counting.
    public var safetyMargin: Double

    public init(costs: [TextRunKind: [Double]], capitalizedLatinCosts: [Double], safetyMargin: Double) {
        self.costs = costs
        self.capitalizedLatinCosts = capitalizedLatinCosts
        self.safetyMargin = safetyMargin
    }

    /// The estimator with Onbrand's calibrated tables.
    public static let gemini = TokenEstimator(
        costs: EstimatorCalibration.costs, capitalizedLatinCosts: EstimatorCalibration.capitalizedLatinCosts,
        safetyMargin: EstimatorCalibration.safetyMargin)

    /// The estimated token count of `text`; 0 for empty text.
    public func estimate(_ text: String) -> Int {
        guard !text.isEmpty else { return 0 }
        var total = 0.0
        for run in TextRuns.split(text) { total += cost(of: run) }
        return Int((total * safetyMargin).rounded(.up))
    }

    /// The unrounded cost of one run.
    public func cost(of run: TextRun) -> Double {
        let table = run.kind == .latinWord && run.innerCapitals > 0 ? capitalizedLatinCosts : (costs[run.kind] ?? [])
        return Self.lookup(table, run.length)
    }

    /// `table[length - 1]`, continuing the last step's slope past the end of the table.
    public static func lookup(_ table: [Double], _ length: Int) -> Double {
        guard !table.isEmpty else { return Double(length) }
        if length <= table.count { return table[length - 1] }
        let last = table[table.count - 1]
        let slope = table.count >= 2 ? max(table[table.count - 1] - table[table.count - 2], 0) : last
        return last + slope * Double(length - table.count)
    }
}
