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
    private let strings: EscapedStrings?

    private init(strings: EscapedStrings?, capacity: Int) {
        self.init(appendingTo: ByteBuffer(capacity: capacity), strings: strings)
    }

    private init(appendingTo buffer: consuming ByteBuffer, strings: EscapedStrings?) {
        self.buffer = buffer
        self.strings = strings
    }

    /// The bytes written.
    var written: UnsafeBufferPointer<UInt8> { buffer.written }

    /// The buffer, with what was there before the writer and what it wrote.
    private consuming func finish() -> ByteBuffer { buffer }

    // MARK: - The two lines

    static func requestLine(unit: WorkUnit, model: String, request: GenerateContentRequest, strings: EscapedStrings? = nil) -> [UInt8] {
        var buffer = ByteBuffer(capacity: 8 << 10)
        appendRequestLine(to: &buffer, unit: unit, model: model, request: request, strings: strings)
        return Array(buffer.written)
    }

    static func reportLine(unit: WorkUnit, model: String, failure: String?, budget: BudgetReport) -> [UInt8] {
        var buffer = ByteBuffer(capacity: 2 << 10)
        appendReportLine(to: &buffer, unit: unit, model: model, failure: failure, budget: budget)
        return Array(buffer.written)
    }

    /// Appends the line straight to `buffer` (a worker's chunk of lines): written once, never copied.
    static func appendRequestLine(
        to buffer: inout ByteBuffer, unit: WorkUnit, model: String, request: GenerateContentRequest, strings: EscapedStrings?
    ) {
        var writer = PlanLineWriter(appendingTo: buffer, strings: strings)
        writer.object { writer in
            writer.field("model") { $0.string(model) }
            writer.field("request") { $0.request(request) }
            writer.field("unit") { $0.unit(unit) }
        }
        writer.append(0x0A)
        buffer = writer.finish()
    }

    static func appendReportLine(to buffer: inout ByteBuffer, unit: WorkUnit, model: String, failure: String?, budget: BudgetReport) {
        var writer = PlanLineWriter(appendingTo: buffer, strings: nil)
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
            if let config = request.generationConfig { object.field("generationConfig") { $0.generationConfig(config) } }
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
            for index in sections.indices { section(sections[index], isFirst: index == 0) }
        }
        literal("]}")
    }

    private mutating func section(_ section: BudgetReport.Section, isFirst: Bool) {
        literal(isFirst ? #"{"fullTokens":"# : #",{"fullTokens":"#)
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
        // Digits from the last, into the 20 bytes the largest magnitude needs.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var index = 20
            repeat {
                index -= 1
                digits[index] = UInt8(ascii: "0") + UInt8(remaining % 10)
                remaining /= 10
            } while remaining > 0
            append(UnsafeBufferPointer(rebasing: digits[index...]))
        }
    }

    /// As `JSONEncoder` writes a `Double`: integral values without a fraction, others in their shortest form.
    mutating func double(_ value: Double) {
        if value.isFinite, value == value.rounded(), abs(value) < 1e15 {
            int(Int(value))
        } else {
            raw(value.isFinite ? "\(value)" : "0")
        }
    }

    /// Whether any of eight bytes is a control character, a quote or a backslash (exact for the
    /// word as a whole; a borrow only blurs which of its bytes is the one).
    @inline(__always)
    private static func mayNeedEscaping(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        func hasZeroByte(_ value: UInt64) -> Bool { (value &- ones) & ~value & highs != 0 }
        let below0x20 = (word &- ones &* 0x20) & ~word & highs != 0
        return below0x20 || hasZeroByte(word ^ (ones &* 0x22)) || hasZeroByte(word ^ (ones &* 0x5C))
    }

    /// ``mayNeedEscaping(_:)`` for two words at once, with one branch.
    @inline(__always)
    private static func mayNeedEscaping(_ first: UInt64, _ second: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        func zeroBytes(_ value: UInt64) -> UInt64 { (value &- ones) & ~value & highs }
        func flags(_ word: UInt64) -> UInt64 {
            ((word &- ones &* 0x20) & ~word & highs) | zeroBytes(word ^ (ones &* 0x22)) | zeroBytes(word ^ (ones &* 0x5C))
        }
        return flags(first) | flags(second) != 0
    }

    /// A JSON string: quotes, backslashes and control characters escaped, everything else (slashes
    /// and non-ASCII included) as UTF-8, as `WireCoding.encoder()` writes it.
    mutating func string(_ value: String) {
        if let strings, let escaped = strings.escaped(value) {
            escaped.withUnsafeBufferPointer { append($0) }
            return
        }
        escape(value)
    }

    /// `value` as a JSON string, quotes included.
    static func escaped(_ value: String) -> [UInt8] {
        var writer = PlanLineWriter(strings: nil, capacity: value.utf8.count + 2)
        writer.escape(value)
        return Array(writer.written)
    }

    private mutating func escape(_ value: String) {
        append(UInt8(ascii: "\""))
        // In place: a native string's own storage (`withUTF8` wants a mutable copy first).
        if value.utf8.withContiguousStorageIfAvailable({ escapeContents($0) }) == nil {
            var value = value
            value.withUTF8 { escapeContents($0) }
        }
        append(UInt8(ascii: "\""))
    }

    private mutating func escapeContents(_ utf8: UnsafeBufferPointer<UInt8>) {
        guard let source = utf8.baseAddress else { return }
        let length = utf8.count
        buffer.reserve(length + 1)  // and the closing quote
        var start = 0
        var index = 0
        while index < length {
            // Sixteen, then eight bytes at a time while none of them needs escaping: most text needs none.
            if index + 16 <= length {
                let raw = UnsafeRawPointer(source + index)
                if !Self.mayNeedEscaping(raw.loadUnaligned(as: UInt64.self), raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)) {
                    index += 16
                    continue
                }
            }
            if index + 8 <= length, !Self.mayNeedEscaping(UnsafeRawPointer(source + index).loadUnaligned(as: UInt64.self)) {
                index += 8
                continue
            }
            let end = min(index + 8, length)
            while index < end, !Self.needsEscaping(source[index]) { index += 1 }
            guard index < end else { continue }  // the string's last bytes, none to escape
            append(UnsafeBufferPointer(start: source + start, count: index - start))
            appendEscaped(source[index])
            index += 1
            start = index
        }
        append(UnsafeBufferPointer(start: source + start, count: length - start))
    }

    @inline(__always)
    private static func needsEscaping(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
    }

    private mutating func appendEscaped(_ byte: UInt8) {
        switch byte {
        case UInt8(ascii: "\""): literal("\\\"")
        case UInt8(ascii: "\\"): literal("\\\\")
        case 0x0A: literal("\\n")
        case 0x0D: literal("\\r")
        case 0x09: literal("\\t")
        case 0x08: literal("\\b")
        case 0x0C: literal("\\f")
        default:
            let hex: StaticString = "0123456789abcdef"
            literal("\\u00")
            append(hex.utf8Start[Int(byte >> 4)])
            append(hex.utf8Start[Int(byte & 0xF)])
        }
    }
}

/// Strings a worker has escaped for JSON, kept by their storage: most of a request's text (the
/// brand's rules, captions, file URIs, the system instruction) is the very same string in every
/// unit of a template and locale, and copying its escaped bytes is cheaper than escaping it again.
/// A string is kept once it has been seen twice, so the product's own texts never crowd it out.
/// Holding the strings keeps their storage alive, so an address never comes to mean another text.
final class EscapedStrings {
    private struct Entry {
        var text: String
        var address: UnsafeRawPointer
        var count: Int
    }

    private var kept: [(entry: Entry, escaped: [UInt8])] = []
    private var seen: [Entry] = []
    private var nextSeen = 0
    private static let keptLimit = 32
    private static let seenLimit = 32
    /// Shorter strings are escaped faster than they are looked up.
    private static let minimumLength = 48

    func escaped(_ text: String) -> [UInt8]? {
        guard text.utf8.count >= Self.minimumLength,
            let (address, count) = text.utf8.withContiguousStorageIfAvailable({ ($0.baseAddress.map(UnsafeRawPointer.init), $0.count) }),
            let address
        else { return nil }
        for item in kept where item.entry.address == address && item.entry.count == count { return item.escaped }
        let entry = Entry(text: text, address: address, count: count)
        if let index = seen.firstIndex(where: { $0.address == address && $0.count == count }), kept.count < Self.keptLimit {
            let escaped = PlanLineWriter.escaped(text)
            kept.append((entry, escaped))
            seen.remove(at: index)
            return escaped
        }
        if seen.count < Self.seenLimit {
            seen.append(entry)
        } else {
            seen[nextSeen] = entry
            nextSeen = (nextSeen + 1) % Self.seenLimit
        }
        return nil
    }
}
