import Crypto
public import Foundation
public import GeminiKit
public import OnbrandBudget
public import OnbrandInputs

/// One unit of work: a product in one template and one locale.
public struct WorkUnit: Sendable, Hashable, Codable {
    public var productID: String
    public var templateID: String
    public var locale: String

    public init(productID: String, templateID: String, locale: String) {
        self.productID = productID
        self.templateID = templateID
        self.locale = locale
    }
}

/// What the planner decided for one unit: the request to send and why it looks as it does.
public struct UnitPlan: Sendable {
    public var unit: WorkUnit
    public var model: String
    /// `nil` when the unit cannot be sent (see ``failure``).
    public var request: GenerateContentRequest?
    public var report: BudgetReport
    public var failure: String?
    /// The template's fallback alt text for this product, used when the model gives none.
    public var altTextFallback: String?
    /// The template's alt-text instruction for this product, for a repair or describe call.
    public var altTextInstruction: String? = nil
    /// Set by the run when `countTokens` was asked about this unit.
    public var tokenCheck: TokenCheck? = nil
}

/// The budget of one request: what went in, what was cut and why, and what it will cost.
public struct BudgetReport: Sendable, Codable, Hashable {
    public struct Section: Sendable, Codable, Hashable {
        public var id: String
        public var priority: String
        public var kind: String
        public var outcome: SectionPacker.Outcome
        public var tokens: Int
        public var fullTokens: Int
        public var reason: String?
    }

    /// The model's input limit (or `--budget`).
    public var inputLimit: Int
    /// Kept free for the answer within the limit.
    public var outputReserve: Int
    public var sections: [Section]
    /// Text tokens of the whole request (sections, prompt, alt-text instruction, system instruction).
    public var inputTextTokens: Int
    public var inputImages: Int
    public var inputImageTokens: Int
    public var inputTokens: Int { inputTextTokens + inputImageTokens }
    public var outputImageTokens: Int
    public var outputTextTokens: Int
    public var costUSD: Double
    public var batchCostUSD: Double
    /// Whether counts are exact (a tokenizer model) or estimated.
    public var isExact: Bool
    /// An estimate within ``Planner/Options/exactCountMargin`` of the limit: confirm with `countTokens`.
    public var needsExactCount: Bool
}

/// Turns a brand, a template, a product and a locale into the exact `generateContent` request,
/// packed to fit the model's input limit, and a budget report.
///
/// Pure apart from reading the brand's image files once (cached): the same inputs always give
/// byte-identical requests.
public final class Planner: @unchecked Sendable {
    public struct Options: Sendable {
        /// Overrides every model's input limit (`--budget`).
        public var budget: Int?
        /// Model for templates that name none.
        public var defaultModel: String
        public var counter: TokenCounter
        /// Text the model is expected to write beside the image (alt text and a sentence or two).
        public var expectedTextOutputTokens: Int
        /// Estimates within this share of the limit ask for an exact count.
        public var exactCountMargin: Double
        /// How the brand's own images (references, logo) travel.
        public var brandImages: BrandImages

        public enum BrandImages: String, Sendable, CaseIterable {
            /// Uploaded once through the Files API under a name made from their content, and
            /// referenced by URI: a request is a few KB instead of carrying every image again.
            case filesAPI = "files"
            /// Base64 in every request (gateways without a Files API; one-off requests).
            case inline
        }

        public init(
            budget: Int? = nil, defaultModel: String = "gemini-3.1-flash-image-preview", counter: TokenCounter = .estimate,
            expectedTextOutputTokens: Int = 200, exactCountMargin: Double = 0.05, brandImages: BrandImages = .filesAPI
        ) {
            self.brandImages = brandImages
            self.budget = budget
            self.defaultModel = defaultModel
            self.counter = counter
            self.expectedTextOutputTokens = expectedTextOutputTokens
            self.exactCountMargin = exactCountMargin
        }
    }

    /// The template's alt-text instruction, then the contract the run parses the answer by.
    static func fullAltTextInstruction(_ instruction: String?) -> String {
        guard let instruction else { return altTextContract }
        var full = ""
        full.reserveCapacity(instruction.utf8.count + 1 + altTextContract.utf8.count)
        full += instruction
        full += "\n"
        full += altTextContract
        return full
    }

    /// The line the run parses alt text back from; appended to every alt-text instruction.
    public static let altTextContract =
        "End your text answer with exactly one line of the form `ALT: <alt text>`, on a line of its own, with nothing after it."

    public let brand: BrandGuide
    public let models: ModelCatalog
    public let options: Options
    private let packer: SectionPacker
    let imageCache = ImageCache()
    /// Distinguishes this planner's cached render parts from another brand's.
    let instanceID = UUID().uuidString
    private let productImagesCaptionTokens: Int

    public init(brand: BrandGuide, models: ModelCatalog = ModelCatalog(), options: Options = Options()) {
        self.brand = brand
        self.models = models
        self.options = options
        self.packer = SectionPacker(counter: options.counter)
        productImagesCaptionTokens = options.counter.count(Self.productImagesCaption)
    }

    /// The plan for one unit; never throws: problems become the unit's ``UnitPlan/failure``.
    ///
    /// - Parameter inputLimit: Packs to this limit instead of the model's (or `--budget`): the run
    ///   plans a unit again, tighter, when `countTokens` finds more tokens than the estimate.
    public func plan(_ template: PromptTemplate, product: Product, locale: String, inputLimit: Int? = nil) -> UnitPlan {
        let shared = templatePlan(template, locale: locale)
        let limit = inputLimit ?? shared.limit
        let unit = WorkUnit(productID: product.id, templateID: template.id, locale: locale)
        func failed(_ reason: String, report: BudgetReport? = nil) -> UnitPlan {
            UnitPlan(unit: unit, model: shared.modelID, request: nil, report: report ?? emptyReport(limit: options.budget ?? 0), failure: reason, altTextFallback: nil)
        }
        // Every unit of a template the model cannot serve (or an unknown model) fails alike.
        if let failure = shared.failure { return failed(failure) }

        var rendered: TemplateRenderer.Rendered
        do {
            rendered = try shared.prepared.render(product, subject: "product \(product.id) (\(locale))", recent: shared.recentTexts)
        } catch {
            return failed(error.diagnostics.map(\.message).joined(separator: "; "))
        }
        let counter = options.counter
        let fullAltInstruction: String
        let altInstructionTokens: Int?
        if let sharedAlt = shared.altInstruction, rendered.altTextInstruction == sharedAlt.rendered {
            (fullAltInstruction, altInstructionTokens) = (sharedAlt.full, sharedAlt.tokens)
        } else if let last = shared.lastAltInstruction, let instruction = rendered.altTextInstruction, TemplatePlan.isSame(instruction, last.rendered) {
            (fullAltInstruction, altInstructionTokens) = (last.full, last.tokens)
        } else {
            fullAltInstruction = Self.fullAltTextInstruction(rendered.altTextInstruction)
            altInstructionTokens = nil
        }
        let altInstruction = shared.wantsText ? fullAltInstruction : nil

        // Items to pack: the template's sections, then the prompt and alt-text instruction (required).
        var items: [SectionPacker.Item] = []
        items.reserveCapacity(rendered.sections.count + 2)
        // Empty for an item without images. Not optional: an array of optionals is destroyed
        // element by element through Optional's generic witness (with the rendered texts', 1 % of planning).
        var imagesByItem = [[Part]](repeating: [], count: rendered.sections.count + 2)
        // Each section's name and text move on to its item (then to its placement, and to the
        // report and the request's part): bound or enumerated, each section was copied, and its
        // strings retained for every step.
        let sectionCount = rendered.sections.count
        for index in 0..<sectionCount {
            let priority = rendered.sections[index].priority
            let rank = priority.rank
            let isRequired = priority == .required
            let id = exchange(&rendered.sections[index].id, with: "")
            switch rendered.sections[index].kind {
            case .text:
                let text = exchange(&rendered.sections[index].text, with: "")
                // A section that never names the product was counted once for the template.
                let tokens = shared.sharedSections[index].flatMap { $0.text == text ? $0.tokens : nil } ?? counter.count(text)
                items.append(.init(id: id, isRequired: isRequired, rank: rank, text: text, tokens: tokens))
            case .referenceImages, .productImages, .logo:
                let images = shared.brandImages[index] ?? productImages(product, limit: shared.maximumReferenceImages, counter: counter)
                imagesByItem[items.count] = images.parts
                items.append(
                    .init(
                        id: id, isRequired: isRequired, rank: rank, text: images.caption, tokens: images.captionTokens,
                        fixedTokens: images.parts.count * shared.inputImageTokens, isTrimmable: false))
            }
        }
        items.append(.init(id: "prompt", isRequired: true, rank: 0, text: rendered.prompt, tokens: shared.tokens(ofPrompt: rendered.prompt), isTrimmable: false))
        if let altInstruction {
            let tokens = altInstructionTokens ?? counter.count(altInstruction)
            if altInstructionTokens == nil, let instruction = rendered.altTextInstruction {
                shared.lastAltInstruction = (instruction, altInstruction, tokens)
            }
            items.append(.init(id: "alt-text-instruction", isRequired: true, rank: 0, text: altInstruction, tokens: tokens, isTrimmable: false))
        }
        let itemCount = items.count
        var packed = packer.pack(consume items, budget: limit - shared.outputReserve - shared.systemTokens)

        var sections: [BudgetReport.Section] = []
        sections.reserveCapacity(sectionCount)
        var parts: [Part] = []
        parts.reserveCapacity(itemCount + imagesByItem.reduce(0) { $0 + $1.count })
        var images = 0
        // Through the buffers: each placement and section is lent, where a loop over the arrays
        // copied them (retaining every string in them); the names move on to the report's
        // sections, and the texts to the parts.
        packed.placements.withUnsafeMutableBufferPointer { placements in
            rendered.sections.withUnsafeBufferPointer { renderedSections in
                for index in placements.indices where index < renderedSections.count {
                    sections.append(
                        .init(
                            id: exchange(&placements[index].id, with: ""), priority: renderedSections[index].priority.rawValue,
                            kind: renderedSections[index].kind.rawValue, outcome: placements[index].outcome, tokens: placements[index].tokens,
                            fullTokens: placements[index].fullTokens, reason: placements[index].reason))
                }
            }
            for index in placements.indices where placements[index].outcome != .dropped {
                if !placements[index].text.isEmpty {
                    // Appended empty, then given its text: appended whole, the part was built,
                    // copied into the array and the first copy destroyed, its text retained and
                    // released on the way.
                    parts.append(Self.emptyTextPart)
                    parts[parts.count - 1].text = exchange(&placements[index].text, with: "")
                }
                if index < imagesByItem.count, !imagesByItem[index].isEmpty {
                    parts += imagesByItem[index]
                    images += imagesByItem[index].count
                }
            }
        }
        let imageTokens = images * shared.inputImageTokens
        let textTokens = packed.usedTokens - imageTokens + shared.systemTokens
        let inputTokens = textTokens + imageTokens
        let report = BudgetReport(
            inputLimit: limit, outputReserve: shared.outputReserve, sections: sections, inputTextTokens: textTokens, inputImages: images,
            inputImageTokens: imageTokens, outputImageTokens: shared.outputImageTokens, outputTextTokens: shared.outputTextTokens,
            costUSD: shared.cost(inputTokens: inputTokens, batch: false), batchCostUSD: shared.cost(inputTokens: inputTokens, batch: true),
            isExact: counter.isExact,
            needsExactCount: !counter.isExact
                && Double(inputTokens + shared.outputReserve) >= Double(limit) * (1 - options.exactCountMargin))
        if let failure = packed.failure { return failed(failure, report: report) }

        let request = GenerateContentRequest(
            contents: [Content(role: "user", parts: parts)], systemInstruction: shared.systemInstruction, tools: shared.tools,
            generationConfig: shared.generationConfig)
        return UnitPlan(
            unit: unit, model: shared.modelID, request: request, report: report, failure: nil, altTextFallback: rendered.altTextFallback,
            altTextInstruction: fullAltInstruction)
    }

    /// What every unit of one template in one locale shares, worked out once: the model's limits
    /// and whether the template suits it, the prepared texts and the token counts of those that
    /// never name the product, the system instruction, the brand's images, the request's fixed parts.
    final class TemplatePlan: @unchecked Sendable {
        let template: PromptTemplate
        let locale: String
        let counter: TokenCounter
        /// The profile's own id once the model is known (the template may name it by an alias).
        let modelID: String
        /// The model's profile. A unit reads it only through the fields below: binding the profile
        /// copied it for every unit, retaining each of its strings and arrays.
        private let profile: ModelProfile?
        /// Why no unit of this template can be planned (unknown model, a template the model cannot serve).
        /// When there is none, there is a profile.
        let failure: String?
        let inputImageTokens: Int
        let maximumReferenceImages: Int
        let prepared: PreparedTemplate
        let wantsText: Bool
        let limit: Int
        let outputImageTokens: Int
        let outputTextTokens: Int
        var outputReserve: Int { outputImageTokens + outputTextTokens }
        let systemInstruction: Content
        let systemTokens: Int
        let sharedSections: [(text: String, tokens: Int)?]
        /// The alt-text instruction when it is the same for every product (it never names the
        /// product, or there is none): as rendered, with the contract, and counted.
        let altInstruction: (rendered: String?, full: String, tokens: Int)?
        /// Reference-image and logo sections, by section index.
        let brandImages: [Int: ImageSection]
        let tools: [Tool]?
        let generationConfig: GenerationConfig
        /// This thread's last renders (a plan serves one thread: see ``Planner/templatePlan(_:locale:)``).
        let recentTexts = RecentTexts()
        /// The last prompt counted, and its count.
        private var lastPrompt: (text: String, tokens: Int)?
        /// The last alt-text instruction that names the product: as rendered, with the contract, and counted.
        var lastAltInstruction: (rendered: String, full: String, tokens: Int)?

        /// Whether this is the plan for `template` in `locale`. A method, so that the template is
        /// compared where it lies: read from outside, it was copied for every unit.
        func serves(_ template: PromptTemplate, locale: String) -> Bool {
            self.locale == locale && self.template == template
        }

        /// A unit's price, online or in batch mode, by its input tokens (the output is the same for every unit).
        func cost(inputTokens: Int, batch: Bool) -> Double {
            profile?.cost(inputTokens: inputTokens, imageTokens: outputImageTokens, textOutputTokens: outputTextTokens, batch: batch) ?? 0
        }

        /// The prompt's tokens, counted again only when it is not the very string counted last
        /// (``RecentTexts`` gives a variant's prompt back as the same string).
        func tokens(ofPrompt prompt: String) -> Int {
            if let lastPrompt, Self.isSame(prompt, lastPrompt.text) { return lastPrompt.tokens }
            let tokens = counter.count(prompt)
            lastPrompt = (prompt, tokens)
            return tokens
        }

        /// The same storage (or, for small strings, the same bytes): cheaper than `==`, which for
        /// text outside ASCII compares by Unicode equivalence. Texts held here keep their storage,
        /// so an address is never reused while it is compared with.
        static func isSame(_ lhs: String, _ rhs: String) -> Bool {
            // A small string is held in the value itself, and lent through a temporary copy.
            guard lhs.utf8.count > 15, rhs.utf8.count > 15 else { return lhs.utf8.elementsEqual(rhs.utf8) }
            guard let left = lhs.utf8.withContiguousStorageIfAvailable({ $0.baseAddress }),
                let right = rhs.utf8.withContiguousStorageIfAvailable({ $0.baseAddress })
            else { return false }
            return left == right && lhs.utf8.count == rhs.utf8.count
        }

        init(template: PromptTemplate, locale: String, planner: Planner) {
            let options = planner.options
            self.template = template
            self.locale = locale
            counter = options.counter
            let namedModel = template.model ?? options.defaultModel
            let profile = planner.models.profile(namedModel)
            self.profile = profile
            modelID = profile?.id ?? namedModel
            inputImageTokens = profile?.inputImageTokens ?? 0
            maximumReferenceImages = profile?.maximumReferenceImages ?? 0
            let wantsText = template.output.responseModalities.contains(.text) && template.altText.mode == .inline
            self.wantsText = wantsText
            if let profile {
                let problems = profile.problems(
                    aspectRatio: template.output.aspectRatio.rawValue, imageSize: template.output.imageSize.rawValue,
                    grounding: (template.grounding.web, template.grounding.image), wantsText: wantsText)
                failure = problems.isEmpty ? nil : "template \(template.id) does not fit \(profile.id): " + problems.joined(separator: "; ")
            } else {
                failure = "unknown model \(namedModel); add it to a models file (--models) or pick one of "
                    + planner.models.profiles.map(\.id).joined(separator: ", ")
            }
            limit = options.budget ?? profile?.inputTokenLimit ?? 0
            outputImageTokens = profile?.outputImageTokens(size: template.output.imageSize.rawValue) ?? 0
            outputTextTokens = wantsText ? options.expectedTextOutputTokens : 0
            let system = planner.systemInstruction(locale: locale)
            systemInstruction = Content(role: "user", parts: [Part(text: system)])
            systemTokens = options.counter.count(system)
            prepared = PreparedTemplate(
                template, brand: RenderContext.brandValue(planner.brand, locale: locale, channel: template.channel),
                locale: RenderContext.localeValue(planner.brand, code: locale),
                sharedPartKey: "\(planner.instanceID)|\(locale)|\(template.channel ?? "")")
            sharedSections = prepared.sharedSectionTexts.map { text in text.map { ($0, options.counter.count($0)) } }
            let sharedAlt: String?? = template.altText.instruction == nil ? .some(nil) : prepared.sharedAltTextInstruction.map { .some($0) }
            altInstruction = sharedAlt.map { rendered in
                let full = Planner.fullAltTextInstruction(rendered)
                return (rendered, full, options.counter.count(full))
            }
            var brandImages: [Int: ImageSection] = [:]
            for (index, section) in template.sections.enumerated() where section.kind == .referenceImages || section.kind == .logo {
                brandImages[index] = planner.brandImageSection(section.kind, limit: profile?.maximumReferenceImages ?? 0)
            }
            self.brandImages = brandImages
            tools = template.grounding.isEnabled
                ? [Tool(googleSearch: .init(searchTypes: template.grounding.image ? .init(webSearch: template.grounding.web, imageSearch: true) : nil))]
                : nil
            generationConfig = GenerationConfig(
                responseModalities: template.output.responseModalities.map(\.rawValue).filter { wantsText || $0 != "TEXT" },
                imageConfig: profile?.supportsImageConfig ?? false
                    ? .init(
                        aspectRatio: template.output.aspectRatio.rawValue,
                        imageSize: profile?.imageSizes.isEmpty ?? true ? nil : template.output.imageSize.rawValue)
                    : nil)
        }
    }

    /// An image section: its parts and the caption that introduces them.
    struct ImageSection: Sendable {
        var parts: [Part]
        var caption: String
        var captionTokens: Int
    }

    /// The plan for a template and locale, made on first use by each thread.
    ///
    /// Each thread has its own: every unit retains and releases the plan's strings and arrays (the
    /// brand's texts, the system instruction), and two cores doing so on the same objects fight over
    /// their reference counts.
    func templatePlan(_ template: PromptTemplate, locale: String) -> TemplatePlan {
        let ownPlans = ThreadTemplatePlans.forThisThread
        if let found = ownPlans.plan(planner: instanceID, template: template, locale: locale) { return found }
        let made = TemplatePlan(template: template, locale: locale, planner: self)
        ownPlans.add(made, planner: instanceID)
        return made
    }

    private func emptyReport(limit: Int) -> BudgetReport {
        BudgetReport(
            inputLimit: limit, outputReserve: 0, sections: [], inputTextTokens: 0, inputImages: 0, inputImageTokens: 0,
            outputImageTokens: 0, outputTextTokens: 0, costUSD: 0, batchCostUSD: 0, isExact: options.counter.isExact,
            needsExactCount: false)
    }

    /// Who the model is working for, and the rules that hold whatever the template says.
    func systemInstruction(locale: String) -> String {
        var lines = ["You create on-brand product images for \(brand.name ?? brand.id). Follow the brand's rules exactly."]
        let banned = (brand.voice?.bannedWords ?? []) + (brand.locale(locale)?.bannedWords ?? [])
        if !banned.isEmpty {
            lines.append("Never use these words: " + banned.joined(separator: ", ") + ".")
        }
        if let claims = brand.voice?.bannedClaims, !claims.isEmpty {
            lines.append("Never make these claims: " + claims.joined(separator: "; ") + ".")
        }
        return lines.joined(separator: "\n")
    }

    /// The brand's images for a reference-images or logo section, with their caption.
    func brandImageSection(_ kind: PromptTemplate.Kind, limit: Int) -> ImageSection {
        var parts: [Part] = []
        var caption = ""
        switch kind {
        case .referenceImages:
            var captions: [String] = []
            for reference in (brand.referenceImages ?? []).prefix(limit) {
                guard let part = brandImagePart(reference.file) else { continue }
                parts.append(part)
                captions.append("Reference image \(parts.count): \(reference.description)")
            }
            caption = captions.joined(separator: "\n")
        case .logo:
            if let file = brand.logo?.file, let part = brandImagePart(file) {
                parts = [part]
                caption = (["The brand's logo:"] + (brand.logo?.rules ?? [])).joined(separator: " ")
            }
        case .productImages, .text:
            break
        }
        return ImageSection(parts: parts, caption: caption, captionTokens: options.counter.count(caption))
    }

    /// Remote product photos: referenced by URL here; the run fetches and inlines them.
    private func productImages(_ product: Product, limit: Int, counter: TokenCounter) -> ImageSection {
        let limit = max(limit, 1)
        var parts: [Part] = []
        parts.reserveCapacity(min(limit, product.additionalImageLinks.count + 1))
        func add(_ link: String) {
            if parts.count < limit { parts.append(Part(fileData: .init(mimeType: MimeType.forPath(link), fileUri: link))) }
        }
        if let link = product.imageLink { add(link) }
        for link in product.additionalImageLinks { add(link) }
        return ImageSection(parts: parts, caption: parts.isEmpty ? "" : Self.productImagesCaption, captionTokens: parts.isEmpty ? 0 : productImagesCaptionTokens)
    }

    static let productImagesCaption = "Photos of the actual product follow; keep its shape, colour and details."
    private static let emptyTextPart = Part(text: "")
}

/// A brand image to upload through the Files API before the requests that name it are sent.
public struct BrandFile: Sendable, Hashable {
    /// `onbrand-` and 32 hex digits of the content's SHA-256: the same bytes get the same name in
    /// every run, so a run finds what an earlier one uploaded.
    public var id: String
    public var path: String
    public var mimeType: String
    /// The bytes the name was made from: what gets uploaded, even if the file changes on disk.
    public var data: Data
    public var uri: String { "https://generativelanguage.googleapis.com/v1beta/files/\(id)" }

    public init(path: String, data: Data) {
        self.id = "onbrand-" + SHA256.hash(data: data).prefix(16).map { String(format: "%02x", $0) }.joined()
        self.path = path
        self.mimeType = MimeType.forPath(path)
        self.data = data
    }
}

extension Planner {
    /// The brand files the plans so far refer to (Files API mode).
    public var brandFiles: [BrandFile] { imageCache.referencedFiles }

    func brandImagePart(_ path: String) -> Part? {
        switch options.brandImages {
        case .inline: imageCache.blob(path).map { Part(inlineData: $0) }
        case .filesAPI: imageCache.file(path).map { Part(fileData: .init(mimeType: $0.mimeType, fileUri: $0.uri)) }
        }
    }
}

/// Reads brand images once and keeps their base64, or their Files API names.
final class ImageCache: @unchecked Sendable {
    private let lock = NSLock()
    private var blobs: [String: Part.Blob?] = [:]
    private var files: [String: BrandFile?] = [:]

    func blob(_ path: String) -> Part.Blob? {
        lock.lock()
        defer { lock.unlock() }
        if let cached = blobs[path] { return cached }
        let blob = FileManager.default.contents(atPath: path).map { Part.Blob(mimeType: MimeType.forPath(path), data: $0.base64EncodedString()) }
        blobs[path] = blob
        return blob
    }

    func file(_ path: String) -> BrandFile? {
        lock.lock()
        defer { lock.unlock() }
        if let cached = files[path] { return cached }
        let file = FileManager.default.contents(atPath: path).map { BrandFile(path: path, data: $0) }
        files[path] = file
        return file
    }

    var referencedFiles: [BrandFile] {
        lock.lock()
        defer { lock.unlock() }
        return files.values.compactMap { $0 }.sorted { $0.path < $1.path }
    }
}

enum MimeType {
    /// By the file name's extension (a URL's query ignored), in any case; JPEG when unknown.
    static func forPath(_ path: String) -> String {
        // Over the string's own bytes: `firstIndex(of:)` on its UTF-8 view went a byte at a time
        // through index checks, twice for every product image.
        if let found = path.utf8.withContiguousStorageIfAvailable(forPath) { return found }
        return Array(path.utf8).withUnsafeBufferPointer { forPath($0) }
    }

    private static func forPath(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        guard let base = bytes.baseAddress else { return "image/jpeg" }
        let end = memchr(base, Int32(UInt8(ascii: "?")), bytes.count).map { UnsafeRawPointer($0) - UnsafeRawPointer(base) } ?? bytes.count
        func endsWith(_ suffix: StaticString) -> Bool {
            let count = suffix.utf8CodeUnitCount
            guard end >= count else { return false }
            for offset in 0..<count {
                // ASCII letters fold to lower case with 0x20; the suffixes are lower-case ASCII.
                let byte = bytes[end - count + offset]
                let folded = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
                if folded != suffix.utf8Start[offset] { return false }
            }
            return true
        }
        if endsWith(".png") { return "image/png" }
        if endsWith(".webp") { return "image/webp" }
        if endsWith(".heic") { return "image/heic" }
        return "image/jpeg"
    }
}

/// A thread's own template plans (see ``Planner/templatePlan(_:locale:)``), for the last few
/// planners it served; released with the thread.
final class ThreadTemplatePlans {
    private var plans: [(planner: String, plan: Planner.TemplatePlan)] = []
    /// Past this, other planners' plans give way (never the current planner's: a plan with more
    /// templates × locales than this would otherwise make them again for every unit).
    private static let limit = 64

    func plan(planner: String, template: PromptTemplate, locale: String) -> Planner.TemplatePlan? {
        plans.first { $0.planner == planner && $0.plan.serves(template, locale: locale) }?.plan
    }

    func add(_ plan: Planner.TemplatePlan, planner: String) {
        if plans.count >= Self.limit, let stale = plans.firstIndex(where: { $0.planner != planner }) { plans.remove(at: stale) }
        plans.append((planner, plan))
    }

    static var forThisThread: ThreadTemplatePlans { perThread.value }
    private static let perThread = PerThread { ThreadTemplatePlans() }
}
