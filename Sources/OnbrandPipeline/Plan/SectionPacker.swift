/// Fits prioritised context into a token budget.
///
/// Required items must fit, or the unit fails with the numbers. Optional items are taken in
/// priority order (high, medium, low; template order within a priority) while they fit; a text
/// that does not fit whole is cut at the last sentence boundary that fits, with a marker, when at
/// least ``minimumTrimmedTokens`` of it survive; anything else is dropped with its reason.
/// Deterministic: the same items and budget always give the same result.
public struct SectionPacker: Sendable {
    /// The marker that ends a trimmed text.
    public static let trimMarker = " […]"
    /// A trimmed text shorter than this is not worth its tokens.
    public static let minimumTrimmedTokens = 48

    public struct Item: Sendable {
        public var id: String
        public var isRequired: Bool
        /// 0 is required, then 1 high, 2 medium, 3 low.
        public var rank: Int
        /// Text to fit (for image items, their caption).
        public var text: String
        /// The text's tokens, when counted already.
        public var tokens: Int?
        /// Tokens beyond the text (images), fixed.
        public var fixedTokens: Int
        /// Whether the text may be cut at a sentence boundary.
        public var isTrimmable: Bool

        public init(id: String, isRequired: Bool, rank: Int, text: String, tokens: Int? = nil, fixedTokens: Int = 0, isTrimmable: Bool = true) {
            self.id = id
            self.tokens = tokens
            self.isRequired = isRequired
            self.rank = rank
            self.text = text
            self.fixedTokens = fixedTokens
            self.isTrimmable = isTrimmable
        }
    }

    public enum Outcome: String, Sendable, Codable {
        case included, trimmed, dropped
    }

    public struct Placement: Sendable {
        public var id: String
        public var outcome: Outcome
        /// The text as packed (trimmed, or empty when dropped).
        public var text: String
        public var tokens: Int
        /// Tokens the item would have cost whole.
        public var fullTokens: Int
        public var reason: String?
    }

    public struct Result: Sendable {
        /// In the items' original order.
        public var placements: [Placement]
        public var usedTokens: Int
        /// Set when required items do not fit.
        public var failure: String?
    }

    public let counter: TokenCounter

    public init(counter: TokenCounter) {
        self.counter = counter
    }

    public func pack(_ items: consuming [Item], budget: Int) -> Result {
        // By index through the buffer: `map` hands each item over as a copy (its name and text
        // retained, then released).
        let costs = items.withUnsafeBufferPointer { items in
            items.indices.map { (items[$0].tokens ?? counter.count(items[$0].text)) + items[$0].fixedTokens }
        }
        // The usual case by far: everything fits whole. The items' names and texts move to their
        // placements (copied, each was retained for the placement and released with the item).
        let total = costs.reduce(0, +)
        if total <= budget {
            var placements: [Placement] = []
            placements.reserveCapacity(items.count)
            for index in items.indices {
                placements.append(
                    Placement(
                        id: exchange(&items[index].id, with: ""), outcome: .included, text: exchange(&items[index].text, with: ""),
                        tokens: costs[index], fullTokens: costs[index], reason: nil))
            }
            return Result(placements: placements, usedTokens: total, failure: nil)
        }
        var placements = items.map { Placement(id: $0.id, outcome: .dropped, text: "", tokens: 0, fullTokens: 0, reason: nil) }
        for index in items.indices { placements[index].fullTokens = costs[index] }
        let requiredTokens = zip(items, costs).filter { $0.0.isRequired }.reduce(0) { $0 + $1.1 }
        if requiredTokens > budget {
            let names = items.filter(\.isRequired).map(\.id).joined(separator: ", ")
            return Result(
                placements: placements, usedTokens: requiredTokens,
                failure: "the required sections (\(names)) need \(requiredTokens) tokens, more than the \(budget) available")
        }
        var used = requiredTokens
        for index in items.indices where items[index].isRequired {
            placements[index].outcome = .included
            placements[index].text = items[index].text
            placements[index].tokens = costs[index]
        }
        let optional = items.indices.filter { !items[$0].isRequired }.sorted { (items[$0].rank, $0) < (items[$1].rank, $1) }
        for index in optional {
            let item = items[index]
            let remaining = budget - used
            if costs[index] <= remaining {
                placements[index].outcome = .included
                placements[index].text = item.text
                placements[index].tokens = costs[index]
                used += costs[index]
                continue
            }
            if item.isTrimmable, remaining - item.fixedTokens >= Self.minimumTrimmedTokens,
                let trimmed = trim(item.text, toTokens: remaining - item.fixedTokens)
            {
                let tokens = counter.count(trimmed) + item.fixedTokens
                placements[index].outcome = .trimmed
                placements[index].text = trimmed
                placements[index].tokens = tokens
                placements[index].reason = "cut at a sentence boundary to fit: \(costs[index]) tokens whole, \(remaining) left"
                used += tokens
                continue
            }
            placements[index].reason = "needs \(costs[index]) tokens, \(max(remaining, 0)) left"
        }
        return Result(placements: placements, usedTokens: used, failure: nil)
    }

    /// The longest run of whole sentences from the start of `text`, plus the marker, that fits.
    func trim(_ text: String, toTokens budget: Int) -> String? {
        let sentences = Self.sentences(text)
        var kept = ""
        var best: String?
        for sentence in sentences {
            let candidate = kept + sentence
            let withMarker = candidate.trimmingTrailingSpaces() + Self.trimMarker
            if counter.count(withMarker) > budget { break }
            kept = candidate
            best = withMarker
            if budget - counter.count(withMarker) < 2 { break }
        }
        return best
    }

    /// Sentences with their trailing white space. A sentence ends at `.`, `!` or `?` followed by
    /// white space (so "3.5" and "e.g." inside a word stay whole), or at `。`, `！`, `？` or a newline.
    public static func sentences(_ text: String) -> [String] {
        var sentences: [String] = []
        var current = ""
        // 0: inside a sentence; 1: after `.`, `!` or `?`; 2: the sentence has ended.
        var state = 0
        for character in text {
            if state == 2, !character.isWhitespace {
                sentences.append(current)
                current = ""
                state = 0
            }
            current.append(character)
            if "。！？\n".contains(character) {
                state = 2
            } else if ".!?".contains(character) {
                state = state == 2 ? 2 : 1
            } else if character.isWhitespace {
                state = state >= 1 ? 2 : 0
            } else {
                state = 0
            }
        }
        if !current.isEmpty { sentences.append(current) }
        return sentences
    }
}

extension String {
    fileprivate func trimmingTrailingSpaces() -> String {
        var result = self
        while let last = result.last, last.isWhitespace { result.removeLast() }
        return result
    }
}
