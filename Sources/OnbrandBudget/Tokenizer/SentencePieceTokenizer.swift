import Foundation

/// Encodes text exactly as SentencePiece's BPE model does (`bpe_model.cc`), with byte fallback,
/// as the Gemma tokenizers use: the same token ids, so the same counts.
///
/// The algorithm, step by step as in SentencePiece:
/// 1. normalize: identity, spaces escaped to `▁` (U+2581), optional dummy prefix;
/// 2. split into characters, except that user-defined pieces (whitespace runs, markup) are
///    matched whole, longest first, and never merged further;
/// 3. repeatedly merge the adjacent pair whose joined text is a piece with the highest score
///    (ties: leftmost first);
/// 4. re-split pieces of type UNUSED into the pair that formed them;
/// 5. a piece missing from the vocabulary becomes one `<0xHH>` piece per UTF-8 byte.
///
/// Immutable after loading, so one tokenizer serves every thread.
public final class SentencePieceTokenizer: @unchecked Sendable {
    public let model: SentencePieceModel
    private let vocabulary: ByteTable
    private let userDefined: ByteTrie
    private let pieceTypes: [SentencePieceModel.PieceType]
    private let scores: [Float]
    private let unknownID: Int32
    private let byteIDs: [Int32]
    /// The bytes an escaped space becomes (`▁`, or a plain space).
    private let spaceBytes: [UInt8]
    /// Pieces with a space after their first character (Gemma 3 has one, `>▁</`): a word boundary
    /// is not cut where one of them could form across it. User-defined runs of spaces are left
    /// out: they are matched whole before merging and never come from a merge.
    private let crossingPieces: [(bytes: [UInt8], spaces: [Int])]
    /// Whether words can be merged one at a time (and a word met before reuse its tokens): no
    /// merge crosses the start of a space, except through ``crossingPieces``, or the edge of a
    /// user-defined piece. Checked on the model: false if it has many crossing pieces or UNUSED
    /// pieces a merge could form.
    public let wordsMergeAlone: Bool

    public convenience init(contentsOf path: String) throws(SentencePieceModel.LoadError) {
        let model = try SentencePieceModel(contentsOf: path)
        guard model.modelType == .bpe else {
            throw SentencePieceModel.LoadError(
                file: path, reason: "the model is \(model.modelType), not BPE; Onbrand's exact mode implements BPE (the Gemma models)")
        }
        self.init(model: model)
    }

    public init(model: SentencePieceModel) {
        self.model = model
        var entries: [(bytes: [UInt8], id: Int32)] = []
        var userPieces: [[UInt8]] = []
        var bytes = [Int32](repeating: -1, count: 256)
        var unknown: Int32 = 0
        for (index, piece) in model.pieces.enumerated() {
            switch piece.type {
            case .normal, .unused:
                entries.append((Array(piece.text.utf8), Int32(index)))
            case .userDefined:
                entries.append((Array(piece.text.utf8), Int32(index)))
                userPieces.append(Array(piece.text.utf8))
            case .unknown:
                unknown = Int32(index)
            case .byte:
                // "<0x41>"
                if let value = UInt8(piece.text.dropFirst(3).dropLast(), radix: 16) { bytes[Int(value)] = Int32(index) }
            case .control:
                break
            }
        }
        vocabulary = ByteTable(entries)
        userDefined = ByteTrie(userPieces)
        pieceTypes = model.pieces.map(\.type)
        scores = model.pieces.map(\.score)
        unknownID = unknown
        byteIDs = bytes
        let space: [UInt8] = model.escapeWhitespaces ? [0xE2, 0x96, 0x81] : [0x20]
        spaceBytes = space
        var crossing: [(bytes: [UInt8], spaces: [Int])] = []
        for piece in model.pieces where piece.type == .normal || piece.type == .unused || piece.type == .userDefined {
            let bytes = Array(piece.text.utf8)
            guard bytes.count > space.count else { continue }
            let spaces = (1...(bytes.count - space.count)).filter { Array(bytes[$0..<($0 + space.count)]) == space }
            guard !spaces.isEmpty else { continue }
            let isRunOfSpaces = bytes.count % space.count == 0
                && stride(from: 0, to: bytes.count, by: space.count).allSatisfy { Array(bytes[$0..<($0 + space.count)]) == space }
            if piece.type == .userDefined && isRunOfSpaces { continue }
            crossing.append((bytes, spaces))
        }
        crossingPieces = crossing
        // SentencePiece re-splits an UNUSED piece by the last pair that formed it anywhere in the
        // text; merged word by word, each word would keep its own. No Gemma model has UNUSED pieces.
        let hasUnusedMerges = model.pieces.contains { $0.type == .unused && $0.text.unicodeScalars.count > 1 }
        wordsMergeAlone = crossing.count <= 64 && !hasUnusedMerges
    }

    /// The number of tokens `text` encodes to (no BOS or EOS).
    public func count(_ text: String) -> Int { encode(text).count }

    /// The token ids of `text`, as `SentencePieceProcessor.encode` returns them.
    public func encode(_ text: String) -> [Int32] {
        let (normalized, _) = normalize(text, keepingOffsets: false)
        return normalized.withUnsafeBufferPointer { encode(normalizedBytes: $0).map(\.id) }
    }

    /// The token ids of `text` merged as one sequence, as SentencePiece does, without cutting it
    /// into words first: what word-by-word merging is checked against.
    package func encodeWholeText(_ text: String) -> [Int32] {
        let (normalized, _) = normalize(text, keepingOffsets: false)
        return normalized.withUnsafeBufferPointer { $0.isEmpty ? [] : merge($0, from: 0, to: $0.count).map(\.id) }
    }

    /// Each token with the UTF-8 byte range of `text` it covers, for calibrating estimators. A
    /// token that starts with an escaped space covers that space.
    package func encodeWithSpans(_ text: String) -> [(id: Int32, range: Range<Int>)] {
        let (normalized, offsets) = normalize(text, keepingOffsets: true)
        let tokens = normalized.withUnsafeBufferPointer { encode(normalizedBytes: $0) }
        return tokens.map { token in
            let start = offsets[Int(token.start)]
            let end = offsets[Int(token.start + token.length)]
            return (token.id, start..<max(end, start))
        }
    }

    // MARK: - Normalization

    /// SentencePiece's normalizer for identity models; `offsets[i]` is the byte of `text` that
    /// normalized byte `i` came from (one extra entry for the end).
    private func normalize(_ text: String, keepingOffsets: Bool) -> (bytes: [UInt8], offsets: [Int]) {
        var output: [UInt8] = []
        var offsets: [Int] = []
        output.reserveCapacity(text.utf8.count + text.utf8.count / 4)
        if keepingOffsets { offsets.reserveCapacity(text.utf8.count + text.utf8.count / 4) }
        let space: [UInt8] = model.escapeWhitespaces ? [0xE2, 0x96, 0x81] : [0x20]
        let input = Array(text.utf8)
        var index = 0
        if model.removeExtraWhitespaces {
            while index < input.count, input[index] == 0x20 { index += 1 }
            if index == input.count { return ([], [input.count]) }
        }
        func append(_ bytes: [UInt8], from origin: Int) {
            output += bytes
            if keepingOffsets { offsets += Array(repeating: origin, count: bytes.count) }
        }
        if !model.treatWhitespaceAsSuffix && model.addDummyPrefix { append(space, from: index) }
        var previousWasSpace = model.removeExtraWhitespaces
        while index < input.count {
            let byte = input[index]
            if byte == 0x20 {
                if !previousWasSpace { append(space, from: index) }
                previousWasSpace = model.removeExtraWhitespaces
            } else {
                output.append(byte)
                if keepingOffsets { offsets.append(index) }
                previousWasSpace = false
            }
            index += 1
        }
        if model.removeExtraWhitespaces {
            while output.count >= space.count, Array(output.suffix(space.count)) == space {
                output.removeLast(space.count)
                if keepingOffsets { offsets.removeLast(space.count) }
            }
        }
        if model.treatWhitespaceAsSuffix && model.addDummyPrefix { append(space, from: input.count) }
        if keepingOffsets { offsets.append(input.count) }
        return (output, offsets)
    }

    // MARK: - BPE

    private struct Symbol {
        var start: Int32
        var length: Int32
        var previous: Int32
        var next: Int32
        var isFrozen: Bool
    }

    fileprivate struct Pair {
        var score: Float
        var left: Int32
        var right: Int32
        var size: Int32

        /// The agenda's order: higher score first, then the leftmost.
        @inline(__always) func precedes(_ other: Pair) -> Bool {
            score > other.score || (score == other.score && left < other.left)
        }
    }

    private func encode(normalizedBytes text: UnsafeBufferPointer<UInt8>) -> [(id: Int32, start: Int32, length: Int32)] {
        guard !text.isEmpty else { return [] }
        guard wordsMergeAlone else { return merge(text, from: 0, to: text.count) }
        // Words: runs of characters cut before each space and around each user-defined piece.
        var tokens: [(id: Int32, start: Int32, length: Int32)] = []
        tokens.reserveCapacity(text.count / 3)
        var words = WordCache(words: text.count / 6)
        var wordStart = 0
        var offset = 0
        func finishWord() {
            guard wordStart < offset else { return }
            if let cached = words.tokens(text, wordStart, offset) {
                for token in cached { tokens.append((token.id, token.start + Int32(wordStart), token.length)) }
            } else {
                let merged = merge(text, from: wordStart, to: offset)
                tokens += merged
                words.keep(text, wordStart, offset, merged.map { ($0.id, $0.start - Int32(wordStart), $0.length) })
            }
        }
        while offset < text.count {
            let frozen = userDefined.longestMatch(in: text, at: offset)
            if frozen > 0 {
                finishWord()
                tokens += merge(text, from: offset, to: offset + frozen)
                offset += frozen
                wordStart = offset
                continue
            }
            if offset > wordStart, startsWithSpace(text, at: offset), !isCrossed(text, at: offset) {
                finishWord()
                wordStart = offset
            }
            offset = min(text.count, offset + Self.oneCharLength(text[offset]))
        }
        finishWord()
        return tokens
    }

    /// Whether one of the ``crossingPieces`` stands in the text across `offset`.
    private func isCrossed(_ text: UnsafeBufferPointer<UInt8>, at offset: Int) -> Bool {
        for piece in crossingPieces {
            for space in piece.spaces {
                let start = offset - space
                guard start >= 0, start + piece.bytes.count <= text.count else { continue }
                if piece.bytes.withUnsafeBufferPointer({ ByteTable.equal($0.baseAddress!, $0.count, text.baseAddress! + start, $0.count) }) {
                    return true
                }
            }
        }
        return false
    }

    @inline(__always) private func startsWithSpace(_ text: UnsafeBufferPointer<UInt8>, at offset: Int) -> Bool {
        guard offset + spaceBytes.count <= text.count else { return false }
        for index in spaceBytes.indices where text[offset + index] != spaceBytes[index] { return false }
        return true
    }

    /// SentencePiece's BPE over `text[start..<end]`: symbols, merges best first, then ids.
    private func merge(_ text: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> [(id: Int32, start: Int32, length: Int32)] {
        var symbols: [Symbol] = []
        symbols.reserveCapacity(end - start)
        var offset = start
        while offset < end {
            var length = userDefined.longestMatch(in: text, at: offset, before: end)
            let isFrozen = length > 0
            if !isFrozen { length = min(end - offset, Self.oneCharLength(text[offset])) }
            let index = Int32(symbols.count)
            symbols.append(
                Symbol(
                    start: Int32(offset), length: Int32(length), previous: index - 1,
                    next: offset + length < end ? index + 1 : -1, isFrozen: isFrozen))
            offset += length
        }

        var agenda = PairHeap()
        var reverseMerges: [Int32: (Int32, Int32, Int32, Int32)] = [:]
        func addPair(_ left: Int32, _ right: Int32) {
            guard left >= 0, right >= 0 else { return }
            let l = symbols[Int(left)]
            let r = symbols[Int(right)]
            guard !l.isFrozen, !r.isFrozen else { return }
            let size = l.length + r.length
            guard let id = vocabulary.lookup(text.baseAddress! + Int(l.start), Int(size)) else { return }
            agenda.push(Pair(score: scores[Int(id)], left: left, right: right, size: size))
            if pieceTypes[Int(id)] == .unused { reverseMerges[id] = (l.start, l.length, r.start, r.length) }
        }
        for index in 1..<symbols.count { addPair(Int32(index - 1), Int32(index)) }

        while let top = agenda.pop() {
            let left = Int(top.left)
            let right = Int(top.right)
            guard symbols[left].length > 0, symbols[right].length > 0,
                symbols[left].length + symbols[right].length == top.size
            else { continue }
            symbols[left].length += symbols[right].length
            symbols[left].next = symbols[right].next
            if symbols[right].next >= 0 { symbols[Int(symbols[right].next)].previous = top.left }
            symbols[right].length = 0
            addPair(symbols[left].previous, top.left)
            addPair(top.left, symbols[left].next)
        }

        var ids: [(id: Int32, start: Int32, length: Int32)] = []
        ids.reserveCapacity(symbols.count)
        func emit(_ start: Int32, _ length: Int32) {
            let id = vocabulary.lookup(text.baseAddress! + Int(start), Int(length))
            if let id, pieceTypes[Int(id)] == .unused, let parts = reverseMerges[id] {
                emit(parts.0, parts.1)
                emit(parts.2, parts.3)
            } else if let id {
                ids.append((id, start, length))
            } else if model.byteFallback {
                for offset in Int(start)..<Int(start + length) {
                    let byteID = byteIDs[Int(text[offset])]
                    ids.append((byteID >= 0 ? byteID : unknownID, Int32(offset), 1))
                }
            } else {
                ids.append((unknownID, start, length))
            }
        }
        var index: Int32 = 0
        while index != -1 {
            emit(symbols[Int(index)].start, symbols[Int(index)].length)
            index = symbols[Int(index)].next
        }
        return ids
    }

    /// SentencePiece's `OneCharLen`: the length a UTF-8 lead byte announces (1 for stray bytes).
    @inline(__always) static func oneCharLength(_ lead: UInt8) -> Int {
        switch lead >> 4 {
        case 12, 13: 2
        case 14: 3
        case 15: 4
        default: 1
        }
    }
}

/// A hash table from byte strings to piece ids, probed with slices of the input: no allocation
/// per lookup. Keys live in one arena owned by the table; each slot keeps 32 bits of its key's
/// hash, so a probe rarely touches the arena unless it has found the key.
final class ByteTable: @unchecked Sendable {
    private struct Slot {
        var offset: Int32
        /// -1 marks an empty slot.
        var length: Int32
        var id: Int32
        var tag: UInt32
    }

    private let arena: UnsafeMutableBufferPointer<UInt8>
    private let slots: UnsafeMutableBufferPointer<Slot>
    private let mask: Int

    init(_ entries: [(bytes: [UInt8], id: Int32)]) {
        let total = entries.reduce(0) { $0 + $1.bytes.count }
        arena = .allocate(capacity: max(total, 1))
        var capacity = 16
        while capacity < entries.count * 2 { capacity <<= 1 }
        slots = .allocate(capacity: capacity)
        slots.initialize(repeating: Slot(offset: 0, length: -1, id: 0, tag: 0))
        mask = capacity - 1
        var offset = 0
        for entry in entries {
            _ = UnsafeMutableBufferPointer(rebasing: arena[offset..<(offset + entry.bytes.count)]).initialize(from: entry.bytes)
            let hash = Self.hash(arena.baseAddress! + offset, entry.bytes.count)
            var slot = hash & mask
            while slots[slot].length >= 0 {
                // A duplicate piece keeps its first id, as SentencePiece's map does.
                if Self.equal(arena.baseAddress! + Int(slots[slot].offset), Int(slots[slot].length), arena.baseAddress! + offset, entry.bytes.count) {
                    break
                }
                slot = (slot + 1) & mask
            }
            if slots[slot].length < 0 {
                slots[slot] = Slot(offset: Int32(offset), length: Int32(entry.bytes.count), id: entry.id, tag: Self.tag(hash))
            }
            offset += entry.bytes.count
        }
    }

    deinit {
        arena.deallocate()
        slots.deallocate()
    }

    @inline(__always) static func hash(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> Int {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for index in 0..<count {
            hash ^= UInt64(bytes[index])
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return Int(truncatingIfNeeded: hash ^ (hash >> 29))
    }

    @inline(__always) private static func tag(_ hash: Int) -> UInt32 { UInt32(truncatingIfNeeded: UInt64(bitPattern: Int64(hash)) >> 32) }

    @inline(__always) static func equal(_ a: UnsafePointer<UInt8>, _ aCount: Int, _ b: UnsafePointer<UInt8>, _ bCount: Int) -> Bool {
        guard aCount == bCount else { return false }
        return memcmp(a, b, aCount) == 0
    }

    func lookup(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> Int32? {
        let hash = Self.hash(bytes, count)
        let tag = Self.tag(hash)
        var slot = hash & mask
        while true {
            let entry = slots[slot]
            if entry.length < 0 { return nil }
            if entry.tag == tag, Int(entry.length) == count, memcmp(arena.baseAddress! + Int(entry.offset), bytes, count) == 0 { return entry.id }
            slot = (slot + 1) & mask
        }
    }
}

/// Longest-prefix matching of user-defined pieces (SentencePiece's `PrefixMatcher`).
final class ByteTrie: @unchecked Sendable {
    private var root = [Int32](repeating: -1, count: 256)
    private var children: [[UInt8: Int32]] = []
    private var isTerminal: [Bool] = []

    init(_ keys: [[UInt8]]) {
        for key in keys where !key.isEmpty {
            var node = root[Int(key[0])]
            if node < 0 {
                node = newNode()
                root[Int(key[0])] = node
            }
            for byte in key.dropFirst() {
                if let child = children[Int(node)][byte] {
                    node = child
                } else {
                    let child = newNode()
                    children[Int(node)][byte] = child
                    node = child
                }
            }
            isTerminal[Int(node)] = true
        }
    }

    private func newNode() -> Int32 {
        children.append([:])
        isTerminal.append(false)
        return Int32(children.count - 1)
    }

    /// The length of the longest key that `text` starts with at `offset` (ending by `end`), or 0.
    func longestMatch(in text: UnsafeBufferPointer<UInt8>, at offset: Int, before end: Int? = nil) -> Int {
        let end = end ?? text.count
        var node = root[Int(text[offset])]
        guard node >= 0 else { return 0 }
        var longest = isTerminal[Int(node)] ? 1 : 0
        var index = offset + 1
        while index < end, let child = children[Int(node)][text[index]] {
            node = child
            index += 1
            if isTerminal[Int(node)] { longest = index - offset }
        }
        return longest
    }
}

/// The BPE agenda: a binary max-heap of candidate merges, best first (see `Pair.precedes`).
private struct PairHeap {
    private var elements: [SentencePieceTokenizer.Pair] = []

    mutating func push(_ element: SentencePieceTokenizer.Pair) {
        elements.append(element)
        var child = elements.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard elements[child].precedes(elements[parent]) else { break }
            elements.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> SentencePieceTokenizer.Pair? {
        guard !elements.isEmpty else { return nil }
        elements.swapAt(0, elements.count - 1)
        let top = elements.removeLast()
        var parent = 0
        let count = elements.count
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var first = parent
            if left < count, elements[left].precedes(elements[first]) { first = left }
            if right < count, elements[right].precedes(elements[first]) { first = right }
            guard first != parent else { return top }
            elements.swapAt(parent, first)
            parent = first
        }
    }
}

/// The tokens of words already merged in one text, by the words' bytes: prose repeats its words,
/// and a word merges the same way wherever it stands.
private struct WordCache {
    private struct Slot {
        var start: Int
        var length: Int
        var tokens: [(id: Int32, start: Int32, length: Int32)]
    }

    private var slots: [Slot?]
    private var used = 0

    /// Room for about `words` distinct words (at most 4,096: beyond that a text is long enough
    /// that its common words are already in).
    init(words: Int) {
        var capacity = 16
        while capacity < min(words, 4096) * 2 { capacity <<= 1 }
        slots = [Slot?](repeating: nil, count: capacity)
    }

    private static func hash(_ text: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Int {
        ByteTable.hash(text.baseAddress! + start, end - start)
    }

    func tokens(_ text: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> [(id: Int32, start: Int32, length: Int32)]? {
        var index = Self.hash(text, start, end) & (slots.count - 1)
        while let slot = slots[index] {
            if slot.length == end - start,
                ByteTable.equal(text.baseAddress! + slot.start, slot.length, text.baseAddress! + start, end - start)
            {
                return slot.tokens
            }
            index = (index + 1) & (slots.count - 1)
        }
        return nil
    }

    /// Keeps a word's tokens (positions relative to the word), until the table is half full.
    mutating func keep(_ text: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, _ tokens: [(id: Int32, start: Int32, length: Int32)]) {
        guard used < slots.count / 2 else { return }
        var index = Self.hash(text, start, end) & (slots.count - 1)
        while slots[index] != nil { index = (index + 1) & (slots.count - 1) }
        slots[index] = Slot(start: start, length: end - start, tokens: tokens)
        used += 1
    }
}
