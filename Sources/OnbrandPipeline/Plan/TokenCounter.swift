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

    public func count(_ text: String) -> Int {
        if let cached = cache.lookup(text) { return cached }
        let count = counter(text)
        cache.store(text, count)
        return count
    }

    /// Most of a request's text (brand rules, locale notes, instructions) repeats for every
    /// product; its counts are remembered.
    private let cache = CountCache()

    /// The calibrated estimator.
    public static let estimate = TokenCounter(isExact: false) { TokenEstimator.gemini.estimate($0) }

    /// Exact counts from a tokenizer model.
    public static func exact(_ tokenizer: SentencePieceTokenizer) -> TokenCounter {
        TokenCounter(isExact: true) { tokenizer.count($0) }
    }
}

/// A bounded memo of token counts; cleared when full rather than evicting one by one.
final class CountCache: @unchecked Sendable {
    static let capacity = 8192
    private let lock = NSLock()
    private var counts: [String: Int] = [:]

    func lookup(_ text: String) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        return counts[text]
    }

    func store(_ text: String, _ count: Int) {
        lock.lock()
        defer { lock.unlock() }
        if counts.count >= Self.capacity { counts.removeAll(keepingCapacity: true) }
        counts[text] = count
    }
}
