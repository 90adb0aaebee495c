import Foundation
import Mustache

/// A template made ready to render for many products in one brand, locale and channel.
///
/// Planning a catalog renders the same template a million times with only the product changing.
/// Texts that never name the product are checked and rendered once, here. Texts that do render
/// through a ``ProductTextProgram`` compiled for this brand and locale, which reads the product's
/// fields directly, or through ``FastTemplate`` when they do not compile to one; strictly either
/// way (a variable that does not resolve stops it). A render is trusted once one has matched
/// swift-mustache's for the same text and trace of decisions (see
/// ``FastTemplate/render(_:strict:trace:)``). Anything else — a variable that does not resolve, a
/// text outside the fast renderer's subset, a text where it ever differed — goes the full way
/// through ``TemplateRenderer/render(_:context:subject:)``, which checks every tag and says what
/// is wrong. Either way the result is the same text.
public final class PreparedTemplate: @unchecked Sendable {
    public let template: PromptTemplate
    private let brand: RenderContext.Value
    private let locale: RenderContext.Value
    private let sharedPartKey: String

    private enum Text {
        case absent
        /// Rendered and normalised once: the text never names the product.
        case shared(String)
        case perProduct(ProductText)
    }

    /// swift-mustache's template (the reference), the fast renderer's, and the program the fast
    /// renders go through when the text compiles to one. In a class: each product's render takes
    /// it out of ``texts`` with one retain instead of one for every array the three hold.
    private final class ProductText: @unchecked Sendable {
        let reference: MustacheTemplate
        let fast: FastTemplate
        let program: ProductTextProgram?

        init(reference: MustacheTemplate, fast: FastTemplate, program: ProductTextProgram?) {
            (self.reference, self.fast, self.program) = (reference, fast, program)
        }
    }

    /// The template's texts in order: its sections, the prompt, the alt-text instruction and fallback.
    private let texts: [Text]
    /// The product fields the template names (`nil`: it names the product as a whole); only
    /// these are put in each product's context.
    private let productFields: RenderContext.ProductFields
    /// Some text cannot take the fast path (it fails its check, or the fast renderer cannot read
    /// it): every product goes the full way.
    private let needsFullPath: Bool

    private struct Trace: Hashable {
        var text: Int
        var decisions: RenderTrace
    }

    private let lock = NSLock()
    private var verified: Set<Trace> = []
    private var refused = false

    /// - Parameters:
    ///   - brand: ``RenderContext/brandValue(_:locale:channel:)`` for the template's channel.
    ///   - sharedPartKey: Names `brand` and `locale` for ``TemplateRenderer``'s caches on the full path.
    public init(_ template: PromptTemplate, brand: RenderContext.Value, locale: RenderContext.Value, sharedPartKey: String) {
        self.template = template
        self.brand = brand
        self.locale = locale
        self.sharedPartKey = sharedPartKey
        let withoutProduct = RenderContext(root: ["brand": brand, "product": .map([:]), "locale": locale])
        var needsFullPath = false
        var texts: [Text] = []
        var labelled: [(String, TemplateText?)] = template.sections.map { ("section \($0.id)", $0.text) }
        labelled += [("prompt", template.prompt), ("alt-text instruction", template.altText.instruction), ("alt-text fallback", template.altText.fallback)]
        for (label, text) in labelled {
            guard let text else {
                texts.append(.absent)
                continue
            }
            guard let compiled = try? CompiledTexts.shared.compiled(text.source) else {
                needsFullPath = true
                texts.append(.absent)
                continue
            }
            if compiled.usesProduct {
                guard let fast = compiled.fast else { needsFullPath = true; texts.append(.absent); continue }
                texts.append(.perProduct(ProductText(reference: compiled.template, fast: fast, program: ProductTextProgram(fast, brand: brand, locale: locale))))
            } else if TemplateRenderer.check(text, labelled: label, of: template, against: withoutProduct)
                .contains(where: { $0.severity == .error })
            {
                needsFullPath = true
                texts.append(.absent)
            } else {
                texts.append(.shared(TemplateRenderer.normalize(compiled.template.render(withoutProduct.root.mapValues(\.mustacheValue)))))
            }
        }
        self.texts = texts
        self.needsFullPath = needsFullPath
        productFields = Self.productFields(namedIn: labelled.compactMap { $0.1?.source })
    }

    /// The product fields `sources` name, or all of them when one names the product as a whole.
    static func productFields(namedIn sources: [String]) -> RenderContext.ProductFields {
        var fields: Set<String>? = []
        for source in sources {
            for tag in CompiledTexts.shared.tags(source).tags {
                let name = TemplateRenderer.strippedName(tag.name)
                if name == "product" { fields = nil }
                if name.hasPrefix("product."), let field = name.split(separator: ".").dropFirst().first { fields?.insert(String(field)) }
            }
        }
        return .named(fields)
    }

    /// The normalised text of each section that never names the product (`nil` for the others):
    /// the same for every product, so whatever is derived from it can be worked out once.
    public var sharedSectionTexts: [String?] {
        texts.prefix(template.sections.count).map { text in
            if case .shared(let string) = text { string } else { nil }
        }
    }

    /// The alt-text instruction when it never names the product (`nil` otherwise, or when there is none).
    public var sharedAltTextInstruction: String? {
        if case .shared(let string) = texts[template.sections.count + 1] { string } else { nil }
    }

    /// Every text of the template for this product.
    ///
    /// - Throws: ``DiagnosticError`` listing each variable that does not resolve for the product.
    /// - Parameter subject: Named in messages; made only when there is one to write.
    /// - Parameter recent: The texts this thread rendered last, to give back the same `String`
    ///   for a text rendered again (see ``RecentTexts``).
    public func render(
        _ product: Product, subject: @autoclosure () -> String? = nil, recent: RecentTexts? = nil
    ) throws(DiagnosticError) -> TemplateRenderer.Rendered {
        // The product's context, made only for the texts that need it: those without a program,
        // a render to check against swift-mustache's, the full path.
        var context: RenderContext.Members?
        func root() -> RenderContext.Members {
            if let context { return context }
            let made: RenderContext.Members = ["brand": brand, "product": RenderContext.productValue(product, fields: productFields), "locale": locale]
            context = made
            return made
        }
        func fullPath() throws(DiagnosticError) -> TemplateRenderer.Rendered {
            let context = RenderContext(root: ["brand": brand, "product": root()["product"]!, "locale": locale], sharedPartKey: sharedPartKey)
            return try TemplateRenderer.render(template, context: context, subject: subject())
        }
        if needsFullPath || isRefused { return try fullPath() }
        // "" for an absent text. Not optional: an array of optionals is destroyed element by
        // element through Optional's generic witness (with the planner's images, 1 % of planning).
        var rendered: [String] = []
        rendered.reserveCapacity(texts.count)
        // One buffer for every text of the product: each is rendered into it, then normalised out of it.
        var buffer = ByteBuffer(capacity: 2048)
        // And one context stack, with room for the sections a text nests.
        var stack: [RenderContext.Value] = []
        stack.reserveCapacity(8)
        for (index, text) in texts.enumerated() {
            switch text {
            case .absent:
                rendered.append("")
            case .shared(let string):
                rendered.append(string)
            case .perProduct(let productText):
                var trace = RenderTrace()
                buffer.removeAll()
                // The program used in place (bound to a name, it would be copied).
                let succeeded =
                    productText.program?.render(product, trace: &trace, into: &buffer)
                    ?? productText.fast.render(root(), strict: true, trace: &trace, into: &buffer, stack: &stack)
                guard succeeded else { return try fullPath() }
                let text: String
                if let recent {
                    buffer.rewrite { TemplateRenderer.normalize(inPlace: $0) }
                    text = recent.string(buffer.written, text: index)
                } else {
                    text = TemplateRenderer.normalize(utf8: buffer.written)
                }
                let key = Trace(text: index, decisions: trace)
                if !isVerified(key) {
                    guard TemplateRenderer.normalize(productText.reference.render(root().mapValues(\.mustacheValue))) == text else {
                        refuse()
                        return try fullPath()
                    }
                    markVerified(key)
                }
                rendered.append(text)
            }
        }
        let sectionCount = template.sections.count
        // The texts move out of `rendered`, and each section is read where it lies: bound to a
        // name, or copied out of `rendered`, every string was retained, then released.
        func take(_ index: Int) -> String? {
            if case .absent = texts[index] { nil } else { exchange(&rendered[index], with: "") }
        }
        let sections = template.sections.withUnsafeBufferPointer { sections in
            sections.indices.map { index in
                TemplateRenderer.Rendered.Section(
                    id: sections[index].id, priority: sections[index].priority, kind: sections[index].kind,
                    text: exchange(&rendered[index], with: ""))
            }
        }
        return TemplateRenderer.Rendered(
            sections: sections, prompt: exchange(&rendered[sectionCount], with: ""), altTextInstruction: take(sectionCount + 1),
            altTextFallback: take(sectionCount + 2))
    }

    /// A fast render once differed from swift-mustache's: every product now goes the full way.
    var isRefused: Bool {
        lock.lock()
        defer { lock.unlock() }
        return refused
    }

    private func refuse() {
        lock.lock()
        defer { lock.unlock() }
        refused = true
    }

    private func isVerified(_ key: Trace) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return verified.contains(key)
    }

    private func markVerified(_ key: Trace) {
        lock.lock()
        defer { lock.unlock() }
        if verified.count >= 16384 { verified.removeAll(keepingCapacity: true) }
        verified.insert(key)
    }
}

/// The last few texts a prepared template rendered, by text, for one thread's renders.
///
/// Variants of one item follow each other in a catalog, and their prompts and alt-text
/// instructions are often the same text. Giving back the `String` already made for it spares
/// making a new one, and lets whoever counts its tokens see that it is the text it counted last.
public final class RecentTexts {
    /// Per text, its last strings: `limit` slots from `index * limit`, most recently made first
    /// (a string given back again keeps its place).
    private var kept: [String?] = []
    /// Per text: enough for the variants of an item, few enough to compare with them all.
    private static let limit = 4

    public init() {}

    /// The string for `bytes` (valid UTF-8) as text `index`: one kept, or a new one, then kept.
    func string(_ bytes: UnsafeBufferPointer<UInt8>, text index: Int) -> String {
        let first = index * Self.limit
        if kept.count < first + Self.limit { kept += repeatElement(nil, count: first + Self.limit - kept.count) }
        // One access to the array for the whole look-up: each of a class's array accesses is checked.
        return kept.withUnsafeMutableBufferPointer { kept in
            for slot in first..<first + Self.limit {
                guard let candidate = kept[slot] else { break }
                let same = candidate.utf8.count == bytes.count
                    && candidate.utf8.withContiguousStorageIfAvailable { candidate in
                        candidate.count == 0 || memcmp(candidate.baseAddress!, bytes.baseAddress!, bytes.count) == 0
                    } == true
                if same { return candidate }
            }
            let made = String(renderedUTF8: bytes)
            for slot in (first + 1..<first + Self.limit).reversed() { kept.swapAt(slot, slot - 1) }
            kept[first] = made
            return made
        }
    }
}

extension String {
    /// A string of a render's bytes, which are not checked again as UTF-8 (but in debug builds).
    ///
    /// A render is valid UTF-8 by construction: it is made of the bytes of `String`s and of ASCII,
    /// and normalising takes out only ASCII blanks and line breaks. Every other way to make a
    /// `String` from bytes checks them, and for text outside ASCII that check went a byte at a
    /// time: 12 % of planning's instructions. Unlike `String(knownValidUTF8:)` it leaves the ASCII
    /// flag unset (a string without it compares and hashes slower): renders are counted and escaped
    /// as bytes, and working the flag out cost more (0.7 % of planning) than it saved.
    init(renderedUTF8 bytes: UnsafeBufferPointer<UInt8>) {
        assert(String(validating: bytes, as: UTF8.self) != nil, "a render is valid UTF-8")
        self = String(copying: unsafe UTF8Span(unchecked: bytes.span))
    }
}
