import Foundation
import GeminiKit
import OnbrandInputs

/// Writes a plan's two JSON lines per unit by hand, with sorted keys as `WireCoding.encoder()`
/// writes them. `JSONEncoder`'s keyed containers cost a fifth of planning; this writes the same
/// JSON (same keys, same values: `PlanLineWriterTests` decodes both and compares, with every
/// optional field set) at a fraction of the cost.
struct PlanLineWriter: ~Copyable {
    /// The line so far.
    private var buffer: ByteBuffer
    /// Whether the object being written has no field yet (see ``field(_:_:)``).
    private var firstField = true
    private let memo: EncodingMemo?

    private init(memo: EncodingMemo?, capacity: Int) {
        self.init(appendingTo: ByteBuffer(capacity: capacity), memo: memo)
    }

    private init(appendingTo buffer: consuming ByteBuffer, memo: EncodingMemo?) {
        self.buffer = buffer
        self.memo = memo
    }

    /// The bytes written.
    var written: UnsafeBufferPointer<UInt8> { buffer.written }

    /// The buffer, with what was there before the writer and what it wrote.
    private consuming func finish() -> ByteBuffer { buffer }

    // MARK: - The two lines

    static func requestLine(unit: WorkUnit, model: String, request: GenerateContentRequest, memo: EncodingMemo? = nil) -> [UInt8] {
        var buffer = ByteBuffer(capacity: 8 << 10)
        appendRequestLine(to: &buffer, unit: unit, model: model, request: request, memo: memo)
        return Array(buffer.written)
    }

    static func reportLine(unit: WorkUnit, model: String, failure: String?, budget: BudgetReport, memo: EncodingMemo? = nil) -> [UInt8] {
        var buffer = ByteBuffer(capacity: 2 << 10)
        appendReportLine(to: &buffer, unit: unit, model: model, failure: failure, budget: budget, memo: memo)
        return Array(buffer.written)
    }

    /// Appends the line straight to `buffer` (a worker's chunk of lines): written once, never copied.
    static func appendRequestLine(
        to buffer: inout ByteBuffer, unit: WorkUnit, model: String, request: GenerateContentRequest, memo: EncodingMemo?
    ) {
        var writer = PlanLineWriter(appendingTo: buffer, memo: memo)
        writer.object { writer in
            writer.field("model") { $0.string(model) }
            writer.field("request") { $0.request(request) }
            writer.field("unit") { $0.unit(unit) }
        }
        writer.append(0x0A)
        buffer = writer.finish()
    }

    static func appendReportLine(
        to buffer: inout ByteBuffer, unit: WorkUnit, model: String, failure: String?, budget: BudgetReport, memo: EncodingMemo?
    ) {
        var writer = PlanLineWriter(appendingTo: buffer, memo: memo)
        writer.object { writer in
            writer.field("budget") { $0.report(budget) }
            if let failure { writer.field("failure") { $0.string(failure) } }
            writer.field("model") { $0.string(model) }
            writer.field("unit") { $0.unit(unit) }
        }
        writer.append(0x0A)
        buffer = writer.finish()
    }

    // MARK: - Types

    mutating func unit(_ unit: WorkUnit) {
        object { object in
            object.field("locale") { $0.string(unit.locale) }
            object.field("productID") { $0.string(unit.productID) }
            object.field("templateID") { $0.string(unit.templateID) }
        }
    }

    mutating func request(_ request: GenerateContentRequest) {
        object { object in
            object.field("contents") { $0.array(request.contents) { $0.content($1) } }
            if let config = request.generationConfig { object.field("generationConfig") { $0.memoizedGenerationConfig(config) } }
            if let system = request.systemInstruction { object.field("systemInstruction") { $0.content(system) } }
            if let tools = request.tools { object.field("tools") { $0.array(tools) { $0.tool($1) } } }
        }
    }

    mutating func content(_ content: Content) {
        object { object in
            object.field("parts") { $0.array(content.parts) { $0.part($1) } }
            if let role = content.role { object.field("role") { $0.string(role) } }
        }
    }

    mutating func part(_ part: Part) {
        // The common parts, a text or a file reference alone, written without the object helpers.
        if case nil = part.fileData, case nil = part.inlineData, case nil = part.thought, case nil = part.thoughtSignature, let text = part.text {
            literal(#"{"text":"#)
            string(text)
            literal("}")
            return
        }
        if case nil = part.text, case nil = part.inlineData, case nil = part.thought, case nil = part.thoughtSignature, let file = part.fileData {
            literal(#"{"fileData":{"fileUri":"#)
            string(file.fileUri)
            if let mime = file.mimeType {
                literal(#","mimeType":"#)
                string(mime)
            }
            literal("}}")
            return
        }
        object { object in
            if let file = part.fileData {
                object.field("fileData") { writer in
                    writer.object { data in
                        data.field("fileUri") { $0.string(file.fileUri) }
                        if let mime = file.mimeType { data.field("mimeType") { $0.string(mime) } }
                    }
                }
            }
            if let blob = part.inlineData {
                object.field("inlineData") { writer in
                    writer.object { data in
                        data.field("data") { $0.string(blob.data) }
                        data.field("mimeType") { $0.string(blob.mimeType) }
                    }
                }
            }
            if let text = part.text { object.field("text") { $0.string(text) } }
            if let thought = part.thought { object.field("thought") { $0.bool(thought) } }
            if let signature = part.thoughtSignature { object.field("thoughtSignature") { $0.string(signature) } }
        }
    }

    mutating func tool(_ tool: Tool) {
        object { object in
            if let search = tool.googleSearch {
                object.field("googleSearch") { writer in
                    writer.object { search_ in
                        if let types = search.searchTypes {
                            search_.field("searchTypes") { writer in
                                writer.object { types_ in
                                    if types.imageSearch != nil { types_.field("imageSearch") { $0.raw("{}") } }
                                    if types.webSearch != nil { types_.field("webSearch") { $0.raw("{}") } }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The same JSON as ``generationConfig(_:)``; every unit of a template has the same config.
    private mutating func memoizedGenerationConfig(_ config: GenerationConfig) {
        guard let memo else { return generationConfig(config) }
        memo.generationConfig(config, write: {
            var writer = PlanLineWriter(memo: nil, capacity: 256)
            writer.generationConfig(config)
            return Array(writer.written)
        }) { append($0) }
    }

    mutating func generationConfig(_ config: GenerationConfig) {
        object { object in
            if let count = config.candidateCount { object.field("candidateCount") { $0.int(count) } }
            if let image = config.imageConfig {
                object.field("imageConfig") { writer in
                    writer.object { image_ in
                        if let ratio = image.aspectRatio { image_.field("aspectRatio") { $0.string(ratio) } }
                        if let size = image.imageSize { image_.field("imageSize") { $0.string(size) } }
                    }
                }
            }
            if let maximum = config.maxOutputTokens { object.field("maxOutputTokens") { $0.int(maximum) } }
            if let modalities = config.responseModalities { object.field("responseModalities") { $0.array(modalities) { $0.string($1) } } }
            if let seed = config.seed { object.field("seed") { $0.int(seed) } }
            if let temperature = config.temperature { object.field("temperature") { $0.double(temperature) } }
        }
    }

    /// Written field by field without the object helpers: a report is most of a plan's lines
    /// and its shape never changes (keys in sorted order, as the encoder writes them).
    mutating func report(_ report: BudgetReport) {
        literal(#"{"batchCostUSD":"#)
        double(report.batchCostUSD)
        literal(#","costUSD":"#)
        double(report.costUSD)
        literal(#","inputImageTokens":"#)
        int(report.inputImageTokens)
        literal(#","inputImages":"#)
        int(report.inputImages)
        literal(#","inputLimit":"#)
        int(report.inputLimit)
        literal(#","inputTextTokens":"#)
        int(report.inputTextTokens)
        literal(#","isExact":"#)
        bool(report.isExact)
        literal(#","needsExactCount":"#)
        bool(report.needsExactCount)
        literal(#","outputImageTokens":"#)
        int(report.outputImageTokens)
        literal(#","outputReserve":"#)
        int(report.outputReserve)
        literal(#","outputTextTokens":"#)
        int(report.outputTextTokens)
        literal(#","sections":["#)
        // Through the buffer: `enumerated()` copied each section, retaining its strings.
        report.sections.withUnsafeBufferPointer { sections in
            for index in sections.indices {
                if index > 0 { append(UInt8(ascii: ",")) }
                section(sections[index], at: index)
            }
        }
        literal("]}")
    }

    /// A report's section: as the bytes the memo kept when it is the same as the last unit's
    /// section at that place (the brand's texts and images are, unit after unit), else written.
    private mutating func section(_ section: BudgetReport.Section, at index: Int) {
        if let memo, let bytes = memo.writtenSection(section, at: index) {
            append(bytes)
            return
        }
        let start = buffer.count
        literal(#"{"fullTokens":"#)
        int(section.fullTokens)
        literal(#","id":"#)
        string(section.id)
        literal(#","kind":"#)
        string(section.kind)
        literal(#","outcome":"#)
        string(section.outcome.rawValue)
        literal(#","priority":"#)
        string(section.priority)
        if let reason = section.reason {
            literal(#","reason":"#)
            string(reason)
        }
        literal(#","tokens":"#)
        int(section.tokens)
        literal("}")
        memo?.remember(section, at: index, written: UnsafeBufferPointer(rebasing: buffer.written[start...]))
    }

    // MARK: - JSON

    /// An object whose fields `body` writes with ``field(_:_:)``, in the order given (callers give them sorted).
    mutating func object(_ body: (inout PlanLineWriter) -> Void) {
        append(UInt8(ascii: "{"))
        let outer = firstField
        firstField = true
        body(&self)
        firstField = outer
        append(UInt8(ascii: "}"))
    }

    /// One field of the object being written; `key` is one of the writer's own literals, plain
    /// ASCII with nothing to escape.
    mutating func field(_ key: StaticString, _ value: (inout PlanLineWriter) -> Void) {
        append(firstField ? UInt8(ascii: "\"") : UInt8(ascii: ","))
        if !firstField { append(UInt8(ascii: "\"")) }
        firstField = false
        append(UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount))
        append(UInt8(ascii: "\""))
        append(UInt8(ascii: ":"))
        value(&self)
    }

    mutating func array<Element>(_ elements: [Element], _ body: (inout PlanLineWriter, Element) -> Void) {
        append(UInt8(ascii: "["))
        // Through the buffer, so each element is lent to `body` rather than copied (a part's copy
        // retains every string in it; `elements[index]` copies).
        elements.withUnsafeBufferPointer { elements in
            for index in elements.indices {
                if index > 0 { append(UInt8(ascii: ",")) }
                body(&self, elements[index])
            }
        }
        append(UInt8(ascii: "]"))
    }

    @inline(__always)
    mutating func append(_ byte: UInt8) { buffer.append(byte) }

    @inline(__always)
    mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) { buffer.append(bytes) }

    mutating func raw(_ text: String) { buffer.append(text) }

    /// One of the writer's own literals, copied as it is.
    @inline(__always)
    mutating func literal(_ text: StaticString) { buffer.append(text) }

    mutating func bool(_ value: Bool) { literal(value ? "true" : "false") }

    mutating func int(_ value: Int) {
        if value < 0 { append(UInt8(ascii: "-")) }
        var remaining = value.magnitude
        // Straight into the buffer, once the digits are counted: the largest magnitude has 20.
        buffer.append(atMost: 20) { output in
            var count = 1
            var bound: UInt = 10
            while count < 20, remaining >= bound {
                count += 1
                bound = bound &* 10
            }
            var position = count
            repeat {
                position -= 1
                output[position] = UInt8(ascii: "0") + UInt8(remaining % 10)
                remaining /= 10
            } while remaining > 0
            return count
        }
    }

    /// As `JSONEncoder` writes a `Double`: integral values without a fraction, others in their shortest form.
    mutating func double(_ value: Double) {
        if value.isFinite, value == value.rounded(), abs(value) < 1e15 {
            int(Int(value))
        } else {
            guard value.isFinite else { return literal("0") }
            guard let memo else { return raw("\(value)") }
            append(memo.number(value, make: { "\($0)" }))
        }
    }

    /// A flag in the high bit of each of eight bytes that is a control character, a quote or a
    /// backslash. The lowest flag is always such a byte; flags above it may be borrows.
    @inline(__always)
    private static func escapeFlags(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        func zeroBytes(_ value: UInt64) -> UInt64 { (value &- ones) & ~value & highs }
        return ((word &- ones &* 0x20) & ~word & highs) | zeroBytes(word ^ (ones &* 0x22)) | zeroBytes(word ^ (ones &* 0x5C))
    }

    /// A JSON string: quotes, backslashes and control characters escaped, everything else (slashes
    /// and non-ASCII included) as UTF-8, as `WireCoding.encoder()` writes it.
    mutating func string(_ value: String) {
        if value.utf8.count >= EncodingMemo.minimumLength, let memo, let escaped = memo.escaped(value) {
            append(escaped)
            return
        }
        escape(value)
    }

    /// `value` as a JSON string, quotes included.
    static func escaped(_ value: String) -> [UInt8] {
        var writer = PlanLineWriter(memo: nil, capacity: value.utf8.count + 2)
        writer.escape(value)
        return Array(writer.written)
    }

    private mutating func escape(_ value: String) {
        // In place: a native string's own storage (`withUTF8` wants a mutable copy first).
        if value.utf8.withContiguousStorageIfAvailable({ escapeQuoted($0) }) == nil {
            var value = value
            value.withUTF8 { escapeQuoted($0) }
        }
    }

    /// Source bytes escaped per reservation: the worst case (every byte written as `\u00XX`) is
    /// reserved, so a string of megabytes (an inline image) does not reserve six times its size.
    private static let escapeSegment = 4096

    /// `utf8` between quotes, escaped.
    private mutating func escapeQuoted(_ utf8: UnsafeBufferPointer<UInt8>) {
        append(UInt8(ascii: "\""))
        var start = 0
        while start < utf8.count {
            let end = min(start + Self.escapeSegment, utf8.count)
            let segment = UnsafeBufferPointer(rebasing: utf8[start..<end])
            // Sixteen bytes of slack: a block is stored whole before it is known to be clean.
            buffer.append(atMost: segment.count * 6 + 16) { Self.escapeContents(segment, into: $0) }
            start = end
        }
        append(UInt8(ascii: "\""))
    }

    /// Writes `source` escaped to `output`, which has room for six bytes a source byte and sixteen
    /// more; returns the bytes written. Sixteen bytes at a time are loaded and stored whole, then
    /// kept if none of them needs escaping (most text has none), or kept up to the first that does.
    private static func escapeContents(_ source: UnsafeBufferPointer<UInt8>, into output: UnsafeMutablePointer<UInt8>) -> Int {
        guard let base = source.baseAddress else { return 0 }
        let length = source.count
        var index = 0
        var written = 0
        while index + 16 <= length {
            let raw = UnsafeRawPointer(base + index)
            let first = raw.loadUnaligned(as: UInt64.self)
            let second = raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
            let target = UnsafeMutableRawPointer(output + written)
            target.storeBytes(of: first, as: UInt64.self)
            target.storeBytes(of: second, toByteOffset: 8, as: UInt64.self)
            let firstFlags = escapeFlags(first)
            let secondFlags = escapeFlags(second)
            if firstFlags | secondFlags == 0 {
                index += 16
                written += 16
                continue
            }
            // Little-endian: the lowest flag is the first byte that needs escaping.
            let clean = firstFlags != 0 ? firstFlags.trailingZeroBitCount >> 3 : 8 + secondFlags.trailingZeroBitCount >> 3
            index += clean
            written += clean
            written += writeEscaped(base[index], to: output + written)
            index += 1
        }
        // The last bytes, fewer than sixteen: one at a time (the gathering a block of them takes
        // cost more than this).
        while index < length {
            let byte = base[index]
            if byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                written += writeEscaped(byte, to: output + written)
            } else {
                output[written] = byte
                written += 1
            }
            index += 1
        }
        return written
    }

    /// Writes the escape for `byte` (a control character, a quote or a backslash); returns its length.
    private static func writeEscaped(_ byte: UInt8, to output: UnsafeMutablePointer<UInt8>) -> Int {
        func two(_ letter: UInt8) -> Int {
            output[0] = UInt8(ascii: "\\")
            output[1] = letter
            return 2
        }
        switch byte {
        case UInt8(ascii: "\""): return two(UInt8(ascii: "\""))
        case UInt8(ascii: "\\"): return two(UInt8(ascii: "\\"))
        case 0x0A: return two(UInt8(ascii: "n"))
        case 0x0D: return two(UInt8(ascii: "r"))
        case 0x09: return two(UInt8(ascii: "t"))
        case 0x08: return two(UInt8(ascii: "b"))
        case 0x0C: return two(UInt8(ascii: "f"))
        default:
            let hex: StaticString = "0123456789abcdef"
            for (offset, character) in "\\u00".utf8.enumerated() { output[offset] = character }
            output[4] = hex.utf8Start[Int(byte >> 4)]
            output[5] = hex.utf8Start[Int(byte & 0xF)]
            return 6
        }
    }
}

/// What a worker writes again and again, kept as the bytes it was written as, which are cheaper
/// to copy than to write again: most of a request's text (the brand's rules, captions, file URIs,
/// the system instruction) is the very same string in every unit of a template and locale, the
/// generation config is the same value, and a unit's costs are a few hundred different numbers
/// (a `Double` is written through a `String`).
///
/// The tables are plain memory: a look-up retains nothing and pays no exclusivity check. The bytes
/// it gives stay valid until the memo's next call.
final class EncodingMemo {
    // MARK: Strings, by their storage

    /// A string by its storage: its address and length.
    private struct Sighting: Equatable {
        var address: UnsafeRawPointer?
        var count = 0
    }

    /// Two-way sets of slots, by address. A string seen once waits in ``seen``; seen again, it is
    /// escaped into ``kept``, so the product's own texts, met once each, pass through ``seen`` and
    /// never crowd out the template's.
    private static let slots = 256
    private let seen: UnsafeMutablePointer<Sighting>
    private let kept: UnsafeMutablePointer<Sighting>
    /// The escaped bytes of each kept string, quotes included.
    private let keptEscaped: UnsafeMutablePointer<UnsafeMutableBufferPointer<UInt8>>
    /// The strings of ``seen`` and ``kept``, held so that an address never comes to mean another
    /// text; touched only when a slot changes hands.
    @exclusivity(unchecked) private var seenTexts = [String](repeating: "", count: slots)
    @exclusivity(unchecked) private var keptTexts = [String](repeating: "", count: slots)
    @exclusivity(unchecked) private var seenTurn = 0
    /// Shorter strings are escaped faster than they are looked up.
    static let minimumLength = 48

    init() {
        seen = .allocate(capacity: Self.slots)
        seen.initialize(repeating: Sighting(), count: Self.slots)
        kept = .allocate(capacity: Self.slots)
        kept.initialize(repeating: Sighting(), count: Self.slots)
        keptEscaped = .allocate(capacity: Self.slots)
        keptEscaped.initialize(repeating: UnsafeMutableBufferPointer(start: nil, count: 0), count: Self.slots)
        numberBits = .allocate(capacity: Self.numberSlots)
        numberBits.initialize(repeating: 0, count: Self.numberSlots)
        numberTexts = .allocate(capacity: Self.numberSlots * Self.numberSlotBytes)
    }

    deinit {
        for slot in 0..<Self.slots { keptEscaped[slot].deallocate() }
        keptEscaped.deallocate()
        kept.deallocate()
        seen.deallocate()
        numberBits.deallocate()
        numberTexts.deallocate()
        for section in writtenSections { section.storage.deallocate() }
    }

    /// The escaped bytes of `text` (quotes included) if it was escaped before; `nil` when it
    /// is shorter than ``minimumLength`` or met for the first time.
    func escaped(_ text: String) -> UnsafeBufferPointer<UInt8>? {
        guard text.utf8.count >= Self.minimumLength,
            let (address, count) = text.utf8.withContiguousStorageIfAvailable({ ($0.baseAddress.map(UnsafeRawPointer.init), $0.count) }),
            let address
        else { return nil }
        let sighting = Sighting(address: address, count: count)
        let bits = UInt(bitPattern: Int(bitPattern: address))
        let first = Int(truncatingIfNeeded: (bits >> 4) ^ (bits >> 12)) & (Self.slots - 2)
        for slot in first...first + 1 where kept[slot] == sighting { return UnsafeBufferPointer(keptEscaped[slot]) }
        guard let slot = (first...first + 1).first(where: { seen[$0] == sighting }) else {
            // Into an empty slot of the set if there is one, else the two slots take turns.
            seenTurn ^= 1
            let slot = seen[first].address == nil ? first : seen[first + 1].address == nil ? first + 1 : first + seenTurn
            seen[slot] = sighting
            seenTexts[slot] = text
            return nil
        }
        seen[slot] = Sighting()
        seenTexts[slot] = ""
        // Kept in an empty slot of the set if there is one, else in place of the other slot's.
        let keptSlot = kept[first].address == nil ? first : kept[first + 1].address == nil ? first + 1 : slot ^ 1
        keptEscaped[keptSlot].deallocate()
        let escaped = PlanLineWriter.escaped(text)
        keptEscaped[keptSlot] = .allocate(capacity: escaped.count)
        _ = keptEscaped[keptSlot].initialize(from: escaped)
        kept[keptSlot] = sighting
        keptTexts[keptSlot] = text
        return UnsafeBufferPointer(keptEscaped[keptSlot])
    }

    // MARK: Numbers, by value

    /// Direct-mapped by the value's bits; a slot's bits are 0 while it is empty (0 is written as
    /// an integer, and never asked for). A slot's text is a length byte, then the text.
    private let numberBits: UnsafeMutablePointer<UInt64>
    private let numberTexts: UnsafeMutablePointer<UInt8>
    private static let numberSlots = 1024
    /// A `Double`'s shortest text is at most 24 bytes (`-2.2250738585072014e-308`).
    private static let numberSlotBytes = 32

    /// The text of `value`, made by `make` the first time (and again when another value took its slot).
    func number(_ value: Double, make: (Double) -> String) -> UnsafeBufferPointer<UInt8> {
        let bits = value.bitPattern
        let slot = Int(truncatingIfNeeded: (bits &* 0x9E37_79B9_7F4A_7C15) >> 54)
        let text = numberTexts + slot * Self.numberSlotBytes
        if numberBits[slot] != bits {
            let made = Array(make(value).utf8.prefix(Self.numberSlotBytes - 1))
            numberBits[slot] = bits
            text[0] = UInt8(made.count)
            (text + 1).initialize(from: made, count: made.count)
        }
        return UnsafeBufferPointer(start: text + 1, count: Int(text[0]))
    }

    // MARK: Report sections, by place

    /// The section last written at each place of a report, and its bytes (in memory of the
    /// memo's own, so that they can be lent).
    private struct WrittenSection {
        var section: BudgetReport.Section
        var storage: UnsafeMutableBufferPointer<UInt8>
        var count: Int
    }
    @exclusivity(unchecked) private var writtenSections: [WrittenSection] = []

    /// The bytes of `section` if it is the same as the section last written at `index`.
    func writtenSection(_ section: BudgetReport.Section, at index: Int) -> UnsafeBufferPointer<UInt8>? {
        guard index < writtenSections.count else { return nil }
        return writtenSections.withUnsafeBufferPointer { written in
            let last = written.baseAddress! + index
            // The numbers first: a product's own sections differ there, and fail fast. The template's
            // id byte for byte: `==` is canonical equivalence, and "é" written as one scalar or as
            // two must not give the other's bytes. Kind, priority and reason are Onbrand's own ASCII,
            // for which `==` is byte equality (and cheaper: it stops at identical storage).
            guard last.pointee.section.tokens == section.tokens, last.pointee.section.fullTokens == section.fullTokens,
                last.pointee.section.outcome == section.outcome, last.pointee.section.kind == section.kind,
                last.pointee.section.priority == section.priority, last.pointee.section.reason == section.reason,
                Self.sameBytes(last.pointee.section.id, section.id)
            else { return nil }
            return UnsafeBufferPointer(rebasing: last.pointee.storage[..<last.pointee.count])
        }
    }

    /// Whether two strings have the same UTF-8 bytes, compared in place (`utf8.elementsEqual`
    /// stepped through indices: it cost half again the encoding).
    private static func sameBytes(_ left: String, _ right: String) -> Bool {
        let same = left.utf8.withContiguousStorageIfAvailable { left -> Bool? in
            right.utf8.withContiguousStorageIfAvailable { right in
                left.count == right.count && (left.isEmpty || memcmp(left.baseAddress!, right.baseAddress!, left.count) == 0)
            }
        }
        return (same ?? nil) ?? left.utf8.elementsEqual(right.utf8)
    }

    /// Keeps `written`, the bytes of `section`, as the last written at `index`.
    func remember(_ section: BudgetReport.Section, at index: Int, written: UnsafeBufferPointer<UInt8>) {
        guard index <= writtenSections.count else { return }
        if index == writtenSections.count {
            writtenSections.append(WrittenSection(section: section, storage: .allocate(capacity: 256), count: 0))
        }
        writtenSections.withUnsafeMutableBufferPointer { sections in
            if sections[index].storage.count < written.count {
                sections[index].storage.deallocate()
                sections[index].storage = .allocate(capacity: written.count * 2)
            }
            _ = sections[index].storage.initialize(fromContentsOf: written)
            sections[index].count = written.count
            sections[index].section = section
        }
    }

    // MARK: The generation config

    @exclusivity(unchecked) private var lastConfig: (config: GenerationConfig, json: [UInt8])?

    /// Lends `body` the JSON of `config`, written by `write` unless it is the config written last.
    func generationConfig(_ config: GenerationConfig, write: () -> [UInt8], _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        if let lastConfig, lastConfig.config == config {
            lastConfig.json.withUnsafeBufferPointer(body)
            return
        }
        let json = write()
        lastConfig = (config, json)
        json.withUnsafeBufferPointer(body)
    }
}
