import Foundation

/// Estimates how many tokens Gemini will count for a text, without its tokenizer.
///
/// Gemini's tokenizer is a SentencePiece BPE shared with the Gemma models. The estimator knows
/// which strings are pieces of that vocabulary, through a fingerprint of every piece (40 bits of
/// a 64-bit FNV-1a hash of its UTF-8, never the piece's text; ``VocabularyFingerprints``), and cuts the
/// text greedily into the longest known piece at each position. Whatever no piece covers costs
/// one token per UTF-8 byte, as SentencePiece's byte fallback does. That is script-aware by
/// construction: a common English word is one piece, a rare German compound three, each digit
/// its own, a Han character one or a merged pair, an emoji one or its bytes; markup, URLs and
/// white-space runs are cut as the vocabulary cuts them.
///
/// Greedy cutting finds slightly fewer pieces than BPE's merge order does (it can choose
/// "▁Earthquake"+"s" where BPE ends with "▁Earth"+"quakes"), so the count is raised by
/// ``VocabularyFingerprints/margin``, measured on the token corpus so that no sample
/// under-counts by more than 2 % (the goal allows 3 %). The figures are in
/// ``VocabularyFingerprints/measurement`` and BENCHMARKS.md; `--tokenizer` gives exact counts.
///
/// Use it to plan and price; when an estimate lands near a model's input limit, the planner asks
/// the exact tokenizer or the API's `countTokens`.
public struct TokenEstimator: Sendable {
    private let pieces: FingerprintSet
    /// The longest piece, in UTF-8 bytes: how far one cut looks ahead.
    public let longestPieceBytes: Int
    /// Multiplier applied to the greedy count, so that estimates err on the side of over-counting.
    public let margin: Double

    public init(fingerprints: [UInt64], prefixes: [UInt64], longestPieceBytes: Int, margin: Double) {
        self.pieces = FingerprintSet(pieces: fingerprints, prefixes: prefixes)
        self.longestPieceBytes = longestPieceBytes
        self.margin = margin
    }

    /// The estimator for Gemini's (Gemma 3's) vocabulary, decoded on first use.
    public static let gemini = TokenEstimator(
        fingerprints: VocabularyFingerprints.decode(VocabularyFingerprints.encoded),
        prefixes: VocabularyFingerprints.decode(VocabularyFingerprints.encodedPrefixes),
        longestPieceBytes: VocabularyFingerprints.longestPieceBytes, margin: VocabularyFingerprints.margin)

    /// The estimated token count of `text`; 0 for empty text.
    public func estimate(_ text: String) -> Int {
        withMargin(greedyPieceCount(text, lines: nil))
    }

    /// The same count as ``estimate(_:)``, faster for callers that estimate many texts sharing
    /// whole lines (a template's sentences around each product's facts): the calling thread
    /// remembers the cuts of lines it has seen.
    public func estimateReusingLines(_ text: String) -> Int {
        withMargin(greedyPieceCount(text, lines: LineMemo.forThisThread))
    }

    private func withMargin(_ pieces: Int) -> Int {
        pieces == 0 ? 0 : Int((Double(pieces) * margin).rounded(.up))
    }

    /// The number of pieces a greedy longest-match cut gives, before the margin.
    public func greedyPieceCount(_ text: String) -> Int { greedyPieceCount(text, lines: nil) }

    func greedyPieceCount(_ text: String, lines: LineMemo?) -> Int {
        var text = text
        // Taken once: read from the memo at every look-up, it was retained and released each time.
        let sentences = lines?.sentences
        return text.withUTF8 { bytes in
            var count = 0
            var start = 0
            while start < bytes.count {
                if let lines, let sentences {
                    // At the start of a line or a sentence met before, its cuts are known up to the last
                    // one that could reach beyond it. A product's lines are mostly new, but made of
                    // sentences met before (a variant's, the catalog's boilerplate), so a line is cut
                    // with the sentences' cuts too.
                    let known: LineMemo.Cuts?
                    if start == 0 || bytes[start - 1] == 0x0A {
                        known =
                            lines.knownCuts(of: start..<LineMemo.lineEnd(after: start, in: bytes), in: bytes) {
                                cutsWithin($0, $1, sentences: sentences)
                            } ?? knownSentenceCuts(at: start, in: bytes, sentences: sentences)
                    } else {
                        known = LineMemo.isSentenceStart(start, in: bytes) ? knownSentenceCuts(at: start, in: bytes, sentences: sentences) : nil
                    }
                    if let known {
                        count += known.pieces
                        if known.length > 0 {
                            start += known.length
                            continue
                        }
                    }
                }
                let cut = nextCut(bytes, at: start, before: bytes.count)
                count += cut.pieces
                start = cut.next
            }
            return count
        }
    }

    private func knownSentenceCuts(at start: Int, in bytes: UnsafeBufferPointer<UInt8>, sentences: LineMemo) -> LineMemo.Cuts? {
        sentences.knownCuts(of: start..<LineMemo.sentenceEnd(after: start, in: bytes), in: bytes) { cutsWithin($0, $1, sentences: nil) }
    }

    /// One greedy cut at `start`, looking no further than `limit`. `isOpen` when the look-ahead
    /// reached `limit` while what it had read could still grow into a longer piece: beyond the end
    /// of a line or sentence the cut may come out differently.
    @inline(__always) private func nextCut(
        _ bytes: UnsafeBufferPointer<UInt8>, at start: Int, before limit: Int
    ) -> (pieces: Int, next: Int, isOpen: Bool) {
        // Wrapping arithmetic and no bounds checks: positions stay within `limit`, which is within
        // `bytes`, and a cut's steps are a third of the estimator's instructions.
        let base = bytes.baseAddress.unsafelyUnwrapped
        var hash = FNV1a.offset
        var end = start
        var longest = 0
        var isOpen = true
        while end &- start < longestPieceBytes {
            guard end < limit else { break }
            // Extend by one whole scalar; pieces end on scalar boundaries.
            let lead = base[end]
            if lead < 0x80 {
                hash = FNV1a.step(hash, lead)
                end &+= 1
            } else {
                let stop = min(end &+ UTF8.scalarWidth(leading: lead), limit)
                repeat {
                    hash = FNV1a.step(hash, base[end])
                    end &+= 1
                } while end < stop
            }
            let found = pieces.lookup(FNV1a.fingerprint(hash))
            if found & FingerprintSet.piece != 0 { longest = end }
            // No piece starts with what has been read: no longer match lies ahead.
            if found & FingerprintSet.prefix == 0 {
                isOpen = false
                break
            }
        }
        if end - start >= longestPieceBytes { isOpen = false }
        if longest > start { return (1, longest, isOpen) }
        // Byte fallback: every byte of the unknown scalar is a token.
        let width = min(UTF8.scalarWidth(leading: bytes[start]), limit - start)
        return (width, start + width, isOpen)
    }

    /// The cuts of `bytes[range]` that do not depend on what follows it; with `sentences`, the
    /// cuts of the sentences in it that are known are taken from there.
    private func cutsWithin(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, sentences: LineMemo?) -> LineMemo.Cuts {
        var pieces = 0
        var position = range.lowerBound
        while position < range.upperBound {
            if let sentences, position == range.lowerBound || LineMemo.isSentenceStart(position, in: bytes) {
                let sentence = position..<min(LineMemo.sentenceEnd(after: position, in: bytes), range.upperBound)
                if let known = sentences.knownCuts(of: sentence, in: bytes, cutting: { cutsWithin($0, $1, sentences: nil) }) {
                    pieces += known.pieces
                    position += known.length
                    if known.length > 0 { continue }
                }
            }
            let cut = nextCut(bytes, at: position, before: range.upperBound)
            if cut.isOpen { break }
            pieces += cut.pieces
            position = cut.next
        }
        return LineMemo.Cuts(pieces: pieces, length: position - range.lowerBound)
    }
}

/// Lines (or sentences) a thread has cut before, by their bytes, with the pieces of their cuts up
/// to the last one that could reach beyond them. Bounded: forgotten all at once when full.
final class LineMemo {
    /// Sentences, kept apart from lines so that neither crowds the other out.
    private(set) lazy var sentences: LineMemo = LineMemo()

    /// Shorter stretches are cut faster than they are looked up: with the prefix rule, a probe
    /// costs less than the three or four table look-ups a piece takes, so only a few words are
    /// left out (12 bytes, down from 24 for lines and 32 for sentences: 308 look-ups a unit of
    /// the 100K feed became 140).
    private let minimumLength: Int

    init(minimumLength: Int = 12) {
        self.minimumLength = minimumLength
        slots.initialize(repeating: Slot(), count: Self.slotCount)
        seenOnce.initialize(repeating: 0, count: Self.seenCapacity)
    }

    deinit {
        slots.deallocate()
        seenOnce.deallocate()
        arena.deallocate()
    }

    /// The cuts of `bytes[range]` when it is long enough to be worth remembering and has been
    /// met before; remembered the second time it is met, since most product text is met once.
    @inline(__always)
    func knownCuts(
        of range: Range<Int>, in bytes: UnsafeBufferPointer<UInt8>, cutting: (UnsafeBufferPointer<UInt8>, Range<Int>) -> Cuts
    ) -> Cuts? {
        guard range.count >= minimumLength else { return nil }
        let stretch = UnsafeBufferPointer(rebasing: bytes[range])
        let hash = Self.hash(stretch)
        return cuts(of: stretch, hash: hash) ?? (isSecondSighting(hash) ? remember(stretch, hash: hash, cutting(bytes, range)) : nil)
    }

    /// Where the line that starts at `start` ends, its line break included.
    static func lineEnd(after start: Int, in bytes: UnsafeBufferPointer<UInt8>) -> Int {
        guard let newline = memchr(bytes.baseAddress! + start, 0x0A, bytes.count - start) else { return bytes.count }
        return UnsafeRawPointer(newline) - UnsafeRawPointer(bytes.baseAddress!) + 1
    }

    /// A space after a sentence's closing mark, where the next sentence's first piece starts.
    @inline(__always)
    static func isSentenceStart(_ position: Int, in bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard position > 0, bytes[position] == 0x20 else { return false }
        let before = bytes[position - 1]
        return before == UInt8(ascii: ".") || before == UInt8(ascii: "!") || before == UInt8(ascii: "?") || before == UInt8(ascii: ";")
    }

    /// Where the sentence that starts at `start` ends: before the space that starts the next
    /// one, or with its line.
    static func sentenceEnd(after start: Int, in bytes: UnsafeBufferPointer<UInt8>) -> Int {
        // A blank line is a sentence of its own, so what is remembered never depends on what came before.
        if bytes[start] == 0x0A { return start + 1 }
        let base = bytes.baseAddress.unsafelyUnwrapped
        let count = bytes.count
        // From mark to mark (a line break, or a closing mark that a space may follow), eight
        // bytes a step between them: a byte at a time, this scan was a tenth of planning.
        var position = start
        while position < count {
            if position &+ 8 <= count {
                let marks = sentenceMarks(UnsafeRawPointer(base + position).loadUnaligned(as: UInt64.self))
                if marks == 0 {
                    position &+= 8
                    continue
                }
                // Little-endian: the lowest flag is the first mark.
                position &+= marks.trailingZeroBitCount >> 3
            }
            let byte = base[position]
            if byte == 0x0A { return position &+ 1 }
            if byte == UInt8(ascii: ".") || byte == UInt8(ascii: "!") || byte == UInt8(ascii: "?") || byte == UInt8(ascii: ";"),
                position &+ 1 < count, base[position &+ 1] == 0x20
            {
                return position &+ 1
            }
            position &+= 1
        }
        return count
    }

    /// A flag in the high bit of each of eight bytes that is a line break or a closing mark
    /// (`.`, `!`, `?`, `;`); the lowest flag is always one, flags above it may be borrows.
    @inline(__always)
    private static func sentenceMarks(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        func zeroBytes(_ value: UInt64) -> UInt64 { (value &- ones) & ~value & (ones &* 0x80) }
        return zeroBytes(word ^ (ones &* 0x0A)) | zeroBytes(word ^ (ones &* 0x2E)) | zeroBytes(word ^ (ones &* 0x21))
            | zeroBytes(word ^ (ones &* 0x3F)) | zeroBytes(word ^ (ones &* 0x3B))
    }

    struct Cuts {
        var pieces: Int
        /// Bytes of the line or sentence the pieces cover; the rest is cut in context.
        var length: Int
    }

    private static let capacity = 8192
    /// The arena's size (offsets fit a slot's 32 bits).
    private static let arenaLimit = 1 << 22
    /// Longer lines are cut every time: a slot holds lengths and piece counts in 21 bits (the
    /// arena's limit, 4 MB, used to be the bound, and a longer line would have overflowed them).
    private static let longestRemembered = 1 << 21

    /// A remembered line in 16 bytes (`nil` slots of 48 bytes kept three memos out of the core's
    /// cache): the hash's low 32 bits (odd, so never 0: 0 marks an empty slot) and the arena
    /// offset; then the line's length, its pieces, and the bytes they cover, 21 bits each.
    private struct Slot {
        var tagAndOffset: UInt64 = 0
        var lengths: UInt64 = 0

        var isEmpty: Bool { tagAndOffset == 0 }
        var tag: UInt32 { UInt32(truncatingIfNeeded: tagAndOffset >> 32) }
        var offset: Int { Int(truncatingIfNeeded: tagAndOffset & 0xFFFF_FFFF) }
        var length: Int { Int(truncatingIfNeeded: lengths & Self.field) }
        var cuts: Cuts { Cuts(pieces: Int(truncatingIfNeeded: (lengths >> 21) & Self.field), length: Int(truncatingIfNeeded: lengths >> 42)) }

        private static let field: UInt64 = (1 << 21) - 1

        static func tag(_ hash: Int) -> UInt32 { UInt32(truncatingIfNeeded: hash) | 1 }

        init() {}

        init(hash: Int, offset: Int, length: Int, cuts: Cuts) {
            tagAndOffset = UInt64(Self.tag(hash)) << 32 | UInt64(offset)
            lengths = UInt64(length) | UInt64(cuts.pieces) << 21 | UInt64(cuts.length) << 42
        }
    }

    // Memory the memo owns rather than arrays: a class's arrays are checked for exclusive access
    // on every read and write, which was a tenth of the estimator's instructions.
    private static let slotCount = capacity * 2
    private let slots = UnsafeMutablePointer<Slot>.allocate(capacity: slotCount)
    /// Where remembered lines' bytes are kept (pages are only touched as it fills).
    private let arena = UnsafeMutablePointer<UInt8>.allocate(capacity: arenaLimit)
    private var arenaCount = 0
    private var count = 0

    /// - Parameter hash: The line's ``hash(_:)``.
    func cuts(of line: UnsafeBufferPointer<UInt8>, hash: Int) -> Cuts? {
        let tag = Slot.tag(hash)
        let mask = Self.slotCount - 1
        var index = hash & mask
        while !slots[index].isEmpty {
            let slot = slots[index]
            if slot.tag == tag, slot.length == line.count, memcmp(arena + slot.offset, line.baseAddress!, line.count) == 0 {
                return slot.cuts
            }
            index = (index + 1) & mask
        }
        return nil
    }

    /// 32 bits of the hashes of lines met once (0: empty), open addressing; forgotten all at once
    /// when half full.
    private static let seenCapacity = capacity * 8
    private let seenOnce = UnsafeMutablePointer<UInt32>.allocate(capacity: seenCapacity)
    private var seenCount = 0

    /// Whether the line was met before (by 32 bits of its hash: at worst a line is remembered a
    /// sighting early).
    func isSecondSighting(_ lineHash: Int) -> Bool {
        let hash = Slot.tag(lineHash)
        let mask = Self.seenCapacity - 1
        var index = (lineHash >> 32) & mask
        while seenOnce[index] != 0 {
            if seenOnce[index] == hash { return true }
            index = (index + 1) & mask
        }
        if seenCount >= Self.seenCapacity / 2 {
            seenOnce.update(repeating: 0, count: Self.seenCapacity)
            seenCount = 0
            index = (lineHash >> 32) & mask
        }
        seenOnce[index] = hash
        seenCount += 1
        return false
    }

    func remember(_ line: UnsafeBufferPointer<UInt8>, hash: Int, _ cuts: Cuts) -> Cuts {
        // Lengths and piece counts have 21 bits in a slot.
        guard line.count < Self.longestRemembered, let source = line.baseAddress else { return cuts }
        if count >= Self.capacity || arenaCount + line.count > Self.arenaLimit {
            slots.update(repeating: Slot(), count: Self.slotCount)
            arenaCount = 0
            count = 0
        }
        let mask = Self.slotCount - 1
        var index = hash & mask
        while !slots[index].isEmpty { index = (index + 1) & mask }
        slots[index] = Slot(hash: hash, offset: arenaCount, length: line.count, cuts: cuts)
        (arena + arenaCount).update(from: source, count: line.count)
        arenaCount += line.count
        count += 1
        return cuts
    }

    /// Sixteen bytes a step, in two lanes whose multiplies overlap, and the last bytes in one
    /// load: lines and sentences are hashed on every look-up, seen or not (about 1.9 KB a unit of
    /// the 100K feed). Only the memo sees these hashes; its entries are compared byte for byte.
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        let count = bytes.count
        var hash: UInt64 = 0x243F_6A88_85A3_08D3 ^ UInt64(count)
        guard let base = bytes.baseAddress else { return Int(truncatingIfNeeded: hash) }
        let raw = UnsafeRawPointer(base)
        var other: UInt64 = 0x1319_8A2E_0370_7344
        var offset = 0
        while offset &+ 16 <= count {
            hash = (hash ^ raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) &* 0x9E37_79B9_7F4A_7C15
            other = (other ^ raw.loadUnaligned(fromByteOffset: offset &+ 8, as: UInt64.self)) &* 0xC2B2_AE3D_27D4_EB4F
            hash ^= hash >> 29
            other ^= other >> 31
            offset &+= 16
        }
        if offset &+ 8 <= count {
            hash = (hash ^ raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) &* 0x9E37_79B9_7F4A_7C15
            hash ^= hash >> 29
            offset &+= 8
        }
        if offset < count {
            // The last eight bytes (some hashed already), or all of a shorter stretch.
            var last: UInt64 = 0
            if count >= 8 {
                last = raw.loadUnaligned(fromByteOffset: count &- 8, as: UInt64.self)
            } else {
                for index in 0..<count { last |= UInt64(base[index]) << (8 &* UInt64(index)) }
            }
            other = (other ^ last) &* 0x9E37_79B9_7F4A_7C15
            other ^= other >> 29
        }
        hash = (hash ^ (other &* 0xC2B2_AE3D_27D4_EB4F)) &* 0x9E37_79B9_7F4A_7C15
        return Int(truncatingIfNeeded: hash ^ (hash >> 32))
    }

    /// This thread's memo.
    static var forThisThread: LineMemo { memos.value }
    private static let memos = PerThread { LineMemo() }
}

/// 64-bit FNV-1a over a piece's UTF-8 (with SentencePiece's "▁" as a space), kept to its top 40
/// bits. A greedy cut asks up to 48 questions per token; with 262,144 pieces, 32 bits answered
/// "yes" wrongly often enough to swallow whole table rows of Markdown as one token, 40 bits about
/// once in 100,000 tokens.
public enum FNV1a {
    public static let offset: UInt64 = 14_695_981_039_346_656_037
    @inline(__always) public static func step(_ hash: UInt64, _ byte: UInt8) -> UInt64 {
        (hash ^ UInt64(byte)) &* 1_099_511_628_211
    }
    public static func fingerprint<Bytes: Sequence<UInt8>>(of bytes: Bytes) -> UInt64 {
        fingerprint(bytes.reduce(offset, step))
    }
    /// The top 40 bits; zero marks an empty slot in ``FingerprintSet``, so no fingerprint is zero.
    @inline(__always) public static func fingerprint(_ hash: UInt64) -> UInt64 { max(hash >> 24, 1) }
}

extension UTF8 {
    /// The byte length of the scalar a leading byte starts (1 for a stray continuation byte).
    @inline(__always) static func scalarWidth(leading byte: UInt8) -> Int {
        switch byte {
        case 0xF0...: 4
        case 0xE0...: 3
        case 0xC0...: 2
        default: 1
        }
    }
}

/// An open-addressing table of non-zero fingerprints, each marked as a piece, as the start of a
/// longer piece, or both; at most 55 % full, so a lookup is one or two probes. A greedy cut asks
/// it once per scalar and stops at the first "neither", so most questions are answered "yes": a
/// bit filter in front (which used to answer the many "no"s of the old rule) now only added a
/// look-up, and went (8 % faster without it).
struct FingerprintSet: Sendable {
    static let piece: UInt64 = 1 << 62
    static let prefix: UInt64 = 1 << 63
    private static let fingerprintBits: UInt64 = (1 << 40) - 1

    /// The table, in memory of its own: read through a pointer, a look-up has no bounds check
    /// and retains nothing. Freed with the last copy of the set.
    private let storage: Storage
    private var slots: UnsafePointer<UInt64> { UnsafePointer(storage.slots) }
    private let mask: Int

    private final class Storage: @unchecked Sendable {
        let slots: UnsafeMutablePointer<UInt64>
        init(_ table: [UInt64]) {
            slots = .allocate(capacity: table.count)
            slots.initialize(from: table, count: table.count)
        }
        deinit { slots.deallocate() }
    }

    init(pieces: [UInt64], prefixes: [UInt64]) {
        var capacity = 1024
        // At most 55 % full: one or two probes, and a table half the size of the next power of two.
        while capacity * 5 < (pieces.count + prefixes.count) * 9 { capacity <<= 1 }
        var slots = [UInt64](repeating: 0, count: capacity)
        let mask = capacity - 1
        for (fingerprints, flag) in [(pieces, Self.piece), (prefixes, Self.prefix)] {
            for fingerprint in fingerprints where fingerprint != 0 {
                var index = Self.index(fingerprint, mask)
                while slots[index] != 0 && slots[index] & Self.fingerprintBits != fingerprint { index = (index + 1) & mask }
                slots[index] |= fingerprint | flag
            }
        }
        storage = Storage(slots)
        self.mask = mask
    }

    @inline(__always) private static func index(_ fingerprint: UInt64, _ mask: Int) -> Int {
        Int(truncatingIfNeeded: (fingerprint &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
    }

    /// ``piece`` and ``prefix`` as they apply to `fingerprint`; 0 when neither does.
    @inline(__always) func lookup(_ fingerprint: UInt64) -> UInt64 {
        var index = Self.index(fingerprint, mask)
        while true {
            let slot = slots[index]
            if slot & Self.fingerprintBits == fingerprint { return slot & (Self.piece | Self.prefix) }
            if slot == 0 { return 0 }
            index = (index + 1) & mask
        }
    }

    func contains(_ fingerprint: UInt64) -> Bool { lookup(fingerprint) & Self.piece != 0 }
}

extension VocabularyFingerprints {
    /// Sorted fingerprints from their stored form: base64 of LEB128 varints of the gaps.
    public static func decode(_ base64: String) -> [UInt64] {
        guard let data = Data(base64Encoded: base64) else { preconditionFailure("VocabularyFingerprints.encoded is not base64") }
        var values: [UInt64] = []
        values.reserveCapacity(data.count / 3)
        var current: UInt64 = 0
        var gap: UInt64 = 0
        var shift: UInt64 = 0
        for byte in data {
            gap |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 {
                current &+= gap
                values.append(current)
                gap = 0
                shift = 0
            } else {
                shift += 7
            }
        }
        return values
    }

    /// The stored form of sorted, distinct fingerprints.
    public static func encode(_ sorted: [UInt64]) -> String {
        var bytes: [UInt8] = []
        var previous: UInt64 = 0
        for value in sorted {
            var gap = value - previous
            previous = value
            while gap >= 0x80 {
                bytes.append(UInt8(gap & 0x7F) | 0x80)
                gap >>= 7
            }
            bytes.append(UInt8(gap))
        }
        return Data(bytes).base64EncodedString()
    }
}
