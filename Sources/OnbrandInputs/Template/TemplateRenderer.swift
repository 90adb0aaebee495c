import Foundation
import Mustache

/// Renders templates with swift-mustache, after checking that every variable resolves.
///
/// Mustache renders a missing variable as an empty string; in a prompt that silently drops a
/// fact the image depends on. So before rendering, each text's tags are walked against the
/// context with Mustache's own lookup rules (dotted names, the context stack, sections over lists
/// and maps) and any variable that does not resolve is an error naming the template, line and
/// variable. Output is plain text (`CONTENT_TYPE: TEXT`): prompts are not HTML, nothing is escaped.
public enum TemplateRenderer {
    /// A template's texts, rendered for one product and locale.
    public struct Rendered: Sendable, Hashable {
        public struct Section: Sendable, Hashable {
            public var id: String
            public var priority: PromptTemplate.Priority
            public var kind: PromptTemplate.Kind
            public var text: String
        }

        public var sections: [Section]
        public var prompt: String
        public var altTextInstruction: String?
        public var altTextFallback: String?
    }

    /// Renders every text of `template`.
    ///
    /// - Throws: ``DiagnosticError`` listing each variable that does not resolve for this context.
    public static func render(
        _ template: PromptTemplate, context: RenderContext, subject: String? = nil
    ) throws(DiagnosticError) -> Rendered {
        // Whether every tag resolves depends only on which fields the product has, not on their
        // text: a template that checked clean for one product of a shape is clean for all of them.
        let cleanKey = context.sharedPartKey.map { shared in
            "\(template.sourceFile ?? "")|\(template.id)|\(template.version)|\(shared)|" + (context.root["product"]?.shape ?? "")
        }
        if !(cleanKey.map(CompiledTexts.shared.isClean) ?? false) {
            let problems = check(template, against: context, subject: subject)
            if problems.contains(where: { $0.severity == .error }) { throw DiagnosticError(problems) }
            if let cleanKey { CompiledTexts.shared.markClean(cleanKey) }
        }
        var mustacheObject: [String: Any]?
        func object() -> [String: Any] {
            if let mustacheObject { return mustacheObject }
            let made = context.root.mapValues(\.mustacheValue)
            mustacheObject = made
            return made
        }
        func render(_ text: TemplateText) throws(DiagnosticError) -> String {
            do {
                let compiled = try CompiledTexts.shared.compiled(text.source)
                // Texts that never name the product render the same for every product: reuse them.
                guard compiled.usesProduct, let key = cleanKey else {
                    guard let key = context.sharedPartKey else { return compiled.template.render(object()) }
                    return CompiledTexts.shared.rendered(text.source, for: key) { compiled.template.render(object()) }
                }
                // The rest go through the fast renderer once it has matched swift-mustache for this product shape.
                return CompiledTexts.shared.renderFast(compiled, source: text.source, shapeKey: key, root: context.root) {
                    compiled.template.render(object())
                }
            } catch {
                throw DiagnosticError(
                    .error("template \(template.id) does not parse as Mustache: \(error)", at: SourceLocation(file: template.sourceFile, line: text.line)))
            }
        }
        var sections: [Rendered.Section] = []
        for section in template.sections {
            let rendered = try section.text.map(render) ?? ""
            sections.append(Rendered.Section(id: section.id, priority: section.priority, kind: section.kind, text: normalize(rendered)))
        }
        return Rendered(
            sections: sections, prompt: normalize(try render(template.prompt)),
            altTextInstruction: try template.altText.instruction.map(render).map(normalize),
            altTextFallback: try template.altText.fallback.map(render).map(normalize))
    }

    /// A tag's name without a transform: `uppercased(product.title)` → `product.title`.
    static func strippedName(_ name: String) -> String {
        name.split(separator: "(").last.map { $0.trimmingCharacters(in: CharacterSet(charactersIn: ") ")) } ?? name
    }

    /// Trims each line and drops blank runs, so indentation in XML templates does not reach the model.
    static func normalize(_ text: String) -> String {
        var text = text
        return text.withUTF8 { normalize(utf8: $0) }
    }

    /// ``normalize(_:)`` for text given as UTF-8 (a render's bytes, before they are a `String`).
    static func normalize(utf8 bytes: UnsafeBufferPointer<UInt8>) -> String {
        // Never longer than the input: a separator stands for at least as many newlines as it writes.
        String(unsafeUninitializedCapacity: bytes.count) { output in
            guard let base = bytes.baseAddress, let target = output.baseAddress else { return 0 }
            return normalize(base, count: bytes.count, into: target)
        }
    }

    /// ``normalize(_:)`` in place: the text's first bytes become the normalised text, and their
    /// number is returned.
    static func normalize(inPlace bytes: UnsafeMutableBufferPointer<UInt8>) -> Int {
        guard let base = bytes.baseAddress else { return 0 }
        return normalize(base, count: bytes.count, into: base)
    }

    /// Writes the normalised form of `count` bytes at `source` to `target`, which may be `source`
    /// itself: the output never gets ahead of the input.
    private static func normalize(_ source: UnsafePointer<UInt8>, count: Int, into target: UnsafeMutablePointer<UInt8>) -> Int {
        var written = 0
        var previousWasBlank = true
        var pendingBlank = false
        var lineStart = 0
        while lineStart <= count {
            var lineEnd = count
            if lineStart < count, let newline = memchr(UnsafeRawPointer(source + lineStart), 0x0A, count - lineStart) {
                lineEnd = UnsafeRawPointer(newline) - UnsafeRawPointer(source)
            }
            var start = lineStart
            var end = lineEnd
            while start < end, source[start] == 0x20 || source[start] == 0x09 { start += 1 }
            while end > start, source[end - 1] == 0x20 || source[end - 1] == 0x09 || source[end - 1] == 0x0D { end -= 1 }
            lineStart = lineEnd + 1
            if start == end {
                if !previousWasBlank { pendingBlank = true }
                previousWasBlank = true
                continue
            }
            if written > 0 {
                target[written] = 0x0A
                written += 1
                if pendingBlank {
                    target[written] = 0x0A
                    written += 1
                }
            }
            pendingBlank = false
            previousWasBlank = false
            memmove(target + written, source + start, end - start)
            written += end - start
        }
        return written
    }

    /// Every problem with the template's tags in this context: unbalanced sections, unsupported
    /// tags, and variables that do not resolve.
    ///
    /// - Parameter subject: Named in messages, e.g. "product NW-1 (de-DE)".
    public static func check(_ template: PromptTemplate, against context: RenderContext, subject: String? = nil) -> [Diagnostic] {
        var texts: [(String, TemplateText)] = template.sections.compactMap { section in section.text.map { ("section \(section.id)", $0) } }
        texts.append(("prompt", template.prompt))
        if let instruction = template.altText.instruction { texts.append(("alt-text instruction", instruction)) }
        if let fallback = template.altText.fallback { texts.append(("alt-text fallback", fallback)) }
        return texts.flatMap { label, text in check(text, labelled: label, of: template, against: context, subject: subject) }
    }

    /// The problems of one of the template's texts in this context.
    static func check(
        _ text: TemplateText, labelled label: String, of template: PromptTemplate, against context: RenderContext, subject: String? = nil
    ) -> [Diagnostic] {
        var checker = Checker(template: template, label: label, text: text, subject: subject)
        checker.run(context: context)
        return checker.diagnostics
    }
}

/// One Mustache tag found in a text.
struct MustacheTag {
    enum Kind { case variable, section, inverted, close, comment, partial, delimiters, pragma, block }
    var kind: Kind
    var name: String
    /// Line and column within the text (1-based).
    var line: Int
    var column: Int
    /// Offsets of the tag in the text's UTF-8: start of `{{`, end after `}}`.
    var range: Range<Int>
}

enum MustacheTagScanner {
    /// The tags of `source` in order; an unclosed `{{` is reported as `nil` with its place.
    static func tags(in source: String) -> (tags: [MustacheTag], unclosed: (line: Int, column: Int)?) {
        let bytes = Array(source.utf8)
        var tags: [MustacheTag] = []
        var index = 0
        var line = 1
        var column = 1
        func advance(to target: Int) {
            while index < target {
                if bytes[index] == UInt8(ascii: "\n") {
                    line += 1
                    column = 1
                } else if bytes[index] & 0xC0 != 0x80 {
                    column += 1
                }
                index += 1
            }
        }
        while index + 1 < bytes.count {
            guard bytes[index] == UInt8(ascii: "{"), bytes[index + 1] == UInt8(ascii: "{") else {
                advance(to: index + 1)
                continue
            }
            let start = index
            let (tagLine, tagColumn) = (line, column)
            let isTriple = start + 2 < bytes.count && bytes[start + 2] == UInt8(ascii: "{")
            let closing: [UInt8] = isTriple ? Array("}}}".utf8) : Array("}}".utf8)
            var end = start + (isTriple ? 3 : 2)
            var found = false
            while end + closing.count <= bytes.count {
                if Array(bytes[end..<(end + closing.count)]) == closing {
                    found = true
                    break
                }
                end += 1
            }
            guard found else { return (tags, (tagLine, tagColumn)) }
            var inner = String(decoding: bytes[(start + (isTriple ? 3 : 2))..<end], as: UTF8.self)
            inner = inner.trimmingCharacters(in: " \t\n\r")
            var kind = MustacheTag.Kind.variable
            if !isTriple, let sigil = inner.first {
                switch sigil {
                case "#": kind = .section
                case "^": kind = .inverted
                case "/": kind = .close
                case "!": kind = .comment
                case ">": kind = .partial
                case "=": kind = .delimiters
                case "%": kind = .pragma
                case "$", "<": kind = .block
                case "&": kind = .variable
                default: break
                }
                if sigil == "&" || kind != .variable { inner = String(inner.dropFirst()).trimmingCharacters(in: " \t\n\r") }
            }
            let tagEnd = end + closing.count
            tags.append(MustacheTag(kind: kind, name: inner, line: tagLine, column: tagColumn, range: start..<tagEnd))
            advance(to: tagEnd)
        }
        return (tags, nil)
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: String) -> String {
        var scalars = Substring(self)
        while let first = scalars.first, set.contains(first) { scalars.removeFirst() }
        while let last = scalars.last, set.contains(last) { scalars.removeLast() }
        return String(scalars)
    }
}

/// Walks one text's tags against a context with Mustache's lookup rules.
private struct Checker {
    let template: PromptTemplate
    let label: String
    let text: TemplateText
    /// What is being rendered, for messages: "product NW-1 (de-DE)".
    let subject: String?
    var diagnostics: [Diagnostic] = []

    func location(_ tag: MustacheTag) -> SourceLocation {
        SourceLocation(
            file: template.sourceFile, line: text.line + tag.line - 1,
            column: tag.line == 1 ? text.column + tag.column - 1 : tag.column)
    }

    mutating func run(context: RenderContext) {
        let (tags, unclosed) = CompiledTexts.shared.tags(text.source)
        if let unclosed {
            diagnostics.append(
                .error(
                    "template \(template.id), \(label): a {{ tag is not closed",
                    at: SourceLocation(
                        file: template.sourceFile, line: text.line + unclosed.line - 1,
                        column: unclosed.line == 1 ? text.column + unclosed.column - 1 : unclosed.column),
                    hint: "close it with }}"))
            return
        }
        var index = 0
        walk(tags, &index, stack: [.map(RenderContext.Members(context.root))], closing: nil, isLive: true)
    }

    /// Checks tags from `index` until the close tag of `closing`; `isLive` is false inside a section
    /// that will not render for this context, where only the structure is checked.
    mutating func walk(_ tags: [MustacheTag], _ index: inout Int, stack: [RenderContext.Value], closing: MustacheTag?, isLive: Bool) {
        while index < tags.count {
            let tag = tags[index]
            index += 1
            switch tag.kind {
            case .comment, .pragma:
                continue
            case .partial, .delimiters, .block:
                diagnostics.append(
                    .error(
                        "template \(template.id), \(label): {{\(tag.kind == .partial ? ">" : tag.kind == .block ? "$" : "=")\(tag.name)}} is not supported",
                        at: location(tag), hint: "Onbrand templates use variables and sections only"))
            case .close:
                guard let closing else {
                    diagnostics.append(
                        .error("template \(template.id), \(label): {{/\(tag.name)}} closes no section", at: location(tag), hint: "remove it, or open the section with {{#\(tag.name)}}"))
                    continue
                }
                if tag.name != closing.name {
                    diagnostics.append(
                        .error(
                            "template \(template.id), \(label): {{/\(tag.name)}} closes {{#\(closing.name)}}", at: location(tag),
                            hint: "close sections in the reverse order they open"))
                }
                return
            case .variable:
                guard isLive else { continue }
                let name = Self.strippingTransform(tag.name)
                guard !name.isEmpty else { continue }
                switch resolve(name, stack) {
                case nil:
                    diagnostics.append(unresolved(tag, name))
                case .list?, .map?:
                    diagnostics.append(
                        .error(
                            "template \(template.id), \(label): `\(name)` is a list or group, not text", at: location(tag),
                            hint: "iterate it with {{#\(name)}}…{{/\(name)}}"))
                default:
                    break
                }
            case .section, .inverted:
                let name = Self.strippingTransform(tag.name)
                let value = isLive ? resolve(name, stack) : nil
                let (children, bodyRenders) = Self.sectionContexts(value, inverted: tag.kind == .inverted)
                let start = index
                if isLive && bodyRenders {
                    for child in children {
                        index = start
                        walk(tags, &index, stack: child.map { stack + [$0] } ?? stack, closing: tag, isLive: true)
                    }
                } else {
                    walk(tags, &index, stack: stack, closing: tag, isLive: false)
                }
            }
        }
        if let closing {
            diagnostics.append(
                .error(
                    "template \(template.id), \(label): {{#\(closing.name)}} is never closed", at: location(closing),
                    hint: "add {{/\(closing.name)}}"))
        }
    }

    /// The contexts a section body renders in: one per list element, the map itself, or the
    /// enclosing context for `true`. Empty when the section does not render.
    static func sectionContexts(_ value: RenderContext.Value?, inverted: Bool) -> ([RenderContext.Value?], Bool) {
        let isFalsy: Bool
        switch value {
        case nil, .bool(false)?: isFalsy = true
        case .list(let elements)?: isFalsy = elements.isEmpty
        default: isFalsy = false
        }
        if inverted { return ([nil], isFalsy) }
        guard !isFalsy, let value else { return ([], false) }
        switch value {
        case .list(let elements): return (elements.map { $0 }, true)
        case .bool: return ([nil], true)
        default: return ([value], true)
        }
    }

    /// `uppercased(product.title)` → `product.title`.
    static func strippingTransform(_ name: String) -> String {
        guard let open = name.firstIndex(of: "("), name.hasSuffix(")") else { return name }
        return String(name[name.index(after: open)..<name.index(before: name.endIndex)]).trimmingCharacters(in: " ")
    }

    /// Mustache lookup: the first segment climbs the stack, the rest descend from it.
    func resolve(_ name: String, _ stack: [RenderContext.Value]) -> RenderContext.Value? {
        if name == "." { return stack.last }
        let parts = name.split(separator: ".").map(String.init)
        guard let first = parts.first else { return nil }
        var value: RenderContext.Value?
        if name.hasPrefix(".") {
            value = stack.last
            for part in parts { value = Self.child(part, of: value) }
            return value
        }
        for frame in stack.reversed() {
            if let found = Self.child(first, of: frame) {
                value = found
                break
            }
        }
        for part in parts.dropFirst() { value = Self.child(part, of: value) }
        return value
    }

    static func child(_ name: String, of value: RenderContext.Value?) -> RenderContext.Value? {
        guard case .map(let members)? = value else { return nil }
        return members[name]
    }

    func unresolved(_ tag: MustacheTag, _ name: String) -> Diagnostic {
        .error(
            "template \(template.id), \(label): variable `\(name)` does not resolve" + (subject.map { " for \($0)" } ?? ""),
            at: location(tag),
            hint: "check the spelling against the context in templates/README.md; for a field some products lack, guard it with {{#\(name)}}…{{/\(name)}}")
    }
}

/// Parsed Mustache texts and their tags, kept by source: a run renders the same few texts for
/// every product, and parsing them each time cost more than rendering.
final class CompiledTexts: @unchecked Sendable {
    static let shared = CompiledTexts()

    struct Entry {
        var template: MustacheTemplate
        /// Whether any tag reaches `product` (a lookup can only reach the root's keys by name).
        var usesProduct: Bool
        /// The fast renderer for this text, when its tags are all in its subset.
        var fast: FastTemplate?
    }

    private struct RenderKey: Hashable {
        var source: String
        var context: String
    }

    private let lock = NSLock()
    private var templates: [String: Entry] = [:]
    private var scanned: [String: (tags: [MustacheTag], unclosed: (line: Int, column: Int)?)] = [:]
    private var renderedTexts: [RenderKey: String] = [:]

    func compiled(_ source: String) throws -> Entry {
        lock.lock()
        defer { lock.unlock() }
        if let entry = templates[source] { return entry }
        let template = try MustacheTemplate(string: "{{% CONTENT_TYPE: TEXT}}" + source)
        let tags = MustacheTagScanner.tags(in: source).tags
        let usesProduct = tags.contains { tag in
            let name = TemplateRenderer.strippedName(tag.name)
            // `.` and bare names can only reach the product inside a section that names it.
            return name == "product" || name.hasPrefix("product.")
        }
        let entry = Entry(template: template, usesProduct: usesProduct, fast: FastTemplate(source: source, tags: tags))
        templates[source] = entry
        return entry
    }

    private var cleanChecks: Set<String> = []

    /// Whether a template was checked clean against a context of this shape.
    func isClean(_ key: String) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return cleanChecks.contains(key)
    }

    func markClean(_ key: String) {
        lock.lock()
        defer { lock.unlock() }
        if cleanChecks.count >= 4096 { cleanChecks.removeAll(keepingCapacity: true) }
        cleanChecks.insert(key)
    }

    private var fastVerified: Set<String> = []
    private var fastRefused: Set<String> = []

    /// Whether the fast renderer gave up on this text (it differed from swift-mustache once).
    func isFastRefused(_ source: String) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return fastRefused.contains(source)
    }

    /// Renders with ``FastTemplate`` when it has matched swift-mustache for this text and product
    /// shape; the first time for a shape, renders both ways and compares (normalised, as used).
    func renderFast(_ entry: Entry, source: String, shapeKey: String, root: [String: RenderContext.Value], slow: () -> String) -> String {
        guard let fast = entry.fast else { return slow() }
        let key = shapeKey + "\u{0}" + source
        lock.lock()
        let refused = fastRefused.contains(source)
        let verified = !refused && fastVerified.contains(key)
        lock.unlock()
        if refused { return slow() }
        if verified, let text = fast.render(root) { return text }
        let reference = slow()
        let candidate = fast.render(root)
        lock.lock()
        defer { lock.unlock() }
        if let candidate, TemplateRenderer.normalize(candidate) == TemplateRenderer.normalize(reference) {
            if fastVerified.count >= 16384 { fastVerified.removeAll(keepingCapacity: true) }
            fastVerified.insert(key)
        } else {
            fastRefused.insert(source)
        }
        return reference
    }

    /// The text rendered for this brand and locale, rendered once.
    func rendered(_ source: String, for context: String, render: () -> String) -> String {
        let key = RenderKey(source: source, context: context)
        lock.lock()
        if let text = renderedTexts[key] {
            lock.unlock()
            return text
        }
        lock.unlock()
        let text = render()
        lock.lock()
        if renderedTexts.count >= 4096 { renderedTexts.removeAll(keepingCapacity: true) }
        renderedTexts[key] = text
        lock.unlock()
        return text
    }

    func tags(_ source: String) -> (tags: [MustacheTag], unclosed: (line: Int, column: Int)?) {
        lock.lock()
        defer { lock.unlock() }
        if let found = scanned[source] { return found }
        let result = MustacheTagScanner.tags(in: source)
        scanned[source] = result
        return result
    }
}
