import Foundation
public import OnbrandBudget

/// Counts text tokens for planning: Onbrand's estimate, or exact with a SentencePiece model.
public struct TokenCounter: Sendable {
    private let counter: @Sendable (String) -> Int
    /// Whether counts are exact; estimates near a limit are worth an API `countTokens` call.
    public let isExact: Bool

    public init(isExact: Bool, count: @escaping @Sendable (String) -> Int) {
        self.isExact = isExact
        self.counter = count
    }

    public func count(_ text: String) -> Int { counter(text) }

    /// The calibrated estimator. Planning counts the same template sentences for every product,
    /// so each thread remembers the lines it has cut (the counts are the same).
    public static let estimate = TokenCounter(isExact: false) { TokenEstimator.gemini.estimateReusingLines($0) }

    /// Exact counts from a tokenizer model.
    public static func exact(_ tokenizer: SentencePieceTokenizer) -> TokenCounter {
        TokenCounter(isExact: true) { tokenizer.count($0) }
    }
}
